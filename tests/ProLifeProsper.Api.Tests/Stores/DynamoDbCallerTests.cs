using System.Diagnostics.Metrics;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.Instrumentation;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>
/// Throttling handling, as a pure unit test: dynalite never throttles, so the throttled responses are simulated
/// here (this proves the retry policy and its counting, not a store).
/// </summary>
public sealed class DynamoDbCallerTests
{
    private static (DynamoDbCaller Caller, StoreMetrics Metrics) Create(int maxRetries = 3)
    {
        var metrics = new StoreMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>(), TimeProvider.System);
        return (new DynamoDbCaller(metrics, Options.Create(new DynamoDbOptions { MaxRetries = maxRetries })), metrics);
    }

    [Fact]
    public async Task Throttled_calls_are_retried_with_backoff_and_counted()
    {
        var (caller, metrics) = Create();
        var attempts = 0;
        var response = await caller.CallAsync("put_payment", "t", _ =>
        {
            attempts++;
            return attempts switch
            {
                1 => throw new ProvisionedThroughputExceededException("slow down"),
                2 => throw new RequestLimitExceededException("account limit"),
                _ => Task.FromResult(new PutItemResponse { ConsumedCapacity = new ConsumedCapacity { CapacityUnits = 1 } }),
            };
        }, default);

        Assert.NotNull(response);
        Assert.Equal(3, attempts);
        var figures = metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName);
        Assert.Equal(2, figures.Retries);
        Assert.Equal(2, figures.Throttled);
        Assert.Equal(1, figures.ConsumedWriteCapacity);
    }

    [Fact]
    public async Task A_failed_condition_is_an_answer_and_is_not_retried()
    {
        var (caller, metrics) = Create();
        var attempts = 0;
        await Assert.ThrowsAsync<ConditionalCheckFailedException>(() => caller.CallAsync<PutItemResponse>("put_payment", "t", _ =>
        {
            attempts++;
            throw new ConditionalCheckFailedException("exists");
        }, default));
        Assert.Equal(1, attempts);
        Assert.Equal(0, metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName).Retries);
    }

    [Fact]
    public async Task Throttling_that_outlasts_the_retries_surfaces()
    {
        var (caller, metrics) = Create(maxRetries: 2);
        await Assert.ThrowsAsync<ProvisionedThroughputExceededException>(() => caller.CallAsync<PutItemResponse>("put_payment", "t",
            _ => throw new ProvisionedThroughputExceededException("still too fast"), default));
        Assert.Equal(2, metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName).Throttled);
    }
}
