using System.Diagnostics.Metrics;
using System.Net.Sockets;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.Instrumentation;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>
/// Retry handling, as a pure unit test: dynalite never throttles nor drops a connection, so those failures are
/// simulated here (this proves the retry policy and its counting, not a store; the hostile profile proves the store).
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

    [Fact]
    public async Task A_connection_reset_is_retried()
    {
        var (caller, metrics) = Create();
        var attempts = 0;
        await caller.CallAsync("put_payment", "t", _ => ++attempts == 1
            ? throw new IOException("Unable to read data from the transport connection: Connection reset by peer.", new SocketException((int)SocketError.ConnectionReset))
            : Task.FromResult(new PutItemResponse()), default);

        Assert.Equal(2, attempts);
        var figures = metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName);
        Assert.Equal(1, figures.Retries);
        Assert.Equal(0, figures.Throttled);
    }

    [Fact]
    public async Task A_failed_http_request_is_retried()
    {
        var (caller, metrics) = Create();
        var attempts = 0;
        await caller.CallAsync("get_payment", "t", _ => ++attempts == 1
            ? throw new HttpRequestException("Connection refused", new SocketException((int)SocketError.ConnectionRefused))
            : Task.FromResult(new GetItemResponse()), default);

        Assert.Equal(2, attempts);
        Assert.Equal(1, metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName).Retries);
    }

    [Fact]
    public async Task An_sdk_time_out_is_retried()
    {
        var (caller, metrics) = Create();
        var attempts = 0;
        await caller.CallAsync("query", "t", _ => ++attempts switch
        {
            // HttpClient.Timeout: a TaskCanceledException not caused by the caller's token; the SDK may rethrow its inner TimeoutException.
            1 => throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 10 seconds elapsing.", new TimeoutException()),
            2 => throw new TimeoutException("The operation has timed out."),
            3 => throw new Amazon.Runtime.AmazonClientException("Request failed", new IOException("broken pipe")),
            _ => Task.FromResult(new QueryResponse()),
        }, default);

        Assert.Equal(4, attempts);
        Assert.Equal(3, metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName).Retries);
    }

    [Fact]
    public async Task Nothing_is_retried_once_the_caller_has_cancelled()
    {
        var (caller, metrics) = Create();
        using var cancellation = new CancellationTokenSource();
        var attempts = 0;
        // The failure is one that would be retried, but the caller gave up meanwhile: it surfaces as it is.
        await Assert.ThrowsAsync<InternalServerErrorException>(() => caller.CallAsync<PutItemResponse>("put_payment", "t", _ =>
        {
            attempts++;
            cancellation.Cancel();
            throw new InternalServerErrorException("server error");
        }, cancellation.Token));

        Assert.Equal(1, attempts);
        Assert.Equal(0, metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName).Retries);
    }

    [Fact]
    public async Task The_callers_own_cancellation_is_not_retried()
    {
        var (caller, metrics) = Create();
        using var cancellation = new CancellationTokenSource();
        var attempts = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => caller.CallAsync<GetItemResponse>("get_payment", "t", ct =>
        {
            attempts++;
            cancellation.Cancel();
            throw new TaskCanceledException("cancelled", null, ct);
        }, cancellation.Token));

        Assert.Equal(1, attempts);
        Assert.Equal(0, metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName).Retries);
    }

    [Fact]
    public async Task A_throttle_known_only_by_its_error_code_is_a_throttle()
    {
        // DescribeTable/CreateTable have no ProvisionedThroughputExceededException in their model: the SDK gives a plain exception.
        var (caller, metrics) = Create();
        var attempts = 0;
        await caller.CallAsync("describe_table", "t", _ => ++attempts == 1
            ? throw new Amazon.DynamoDBv2.AmazonDynamoDBException("too fast") { ErrorCode = "ProvisionedThroughputExceededException", StatusCode = System.Net.HttpStatusCode.BadRequest }
            : Task.FromResult(new DescribeTableResponse()), default);

        Assert.Equal(2, attempts);
        Assert.Equal(1, metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName).Throttled);
    }
}
