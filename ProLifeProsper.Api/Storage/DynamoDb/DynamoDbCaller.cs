using System.Net;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using ProLifeProsper.Api.Storage.Instrumentation;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Every DynamoDB call goes through here: throttling (ProvisionedThroughputExceeded, RequestLimitExceeded,
/// ThrottlingException) and server errors are retried with exponential backoff and jitter, and counted;
/// the capacity each response reports is recorded. The SDK's own retries are off so that every retry is seen.
/// </summary>
public sealed class DynamoDbCaller
{
    private const string StoreName = DynamoDbPaymentTransactionStore.StoreName;
    private static readonly ResiliencePropertyKey<string> OperationKey = new("dynamodb.operation");

    private readonly StoreMetrics _metrics;
    private readonly ResiliencePipeline _pipeline;

    public DynamoDbCaller(StoreMetrics metrics, IOptions<DynamoDbOptions> options)
    {
        _metrics = metrics;
        _pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<AmazonDynamoDBException>(IsTransient),
                MaxRetryAttempts = options.Value.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(25),
                MaxDelay = TimeSpan.FromSeconds(2),
                OnRetry = args =>
                {
                    args.Context.Properties.TryGetValue(OperationKey, out var operation);
                    _metrics.RecordRetry(StoreName, operation ?? "unknown", args.Outcome.Exception is AmazonDynamoDBException e && IsThrottle(e));
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public static bool IsThrottle(AmazonDynamoDBException e) =>
        e is ProvisionedThroughputExceededException or RequestLimitExceededException || e.ErrorCode == "ThrottlingException";

    private static bool IsTransient(AmazonDynamoDBException e) =>
        IsThrottle(e) || e is InternalServerErrorException || e.StatusCode >= HttpStatusCode.InternalServerError;

    public async Task<TResponse> CallAsync<TResponse>(string operation, string table, Func<CancellationToken, Task<TResponse>> call, CancellationToken cancellationToken)
        where TResponse : AmazonWebServiceResponse
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(OperationKey, operation);
        try
        {
            var response = await _pipeline.ExecuteAsync(static async (ctx, state) => await state(ctx.CancellationToken), context, call);
            RecordCapacity(table, response);
            return response;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private void RecordCapacity(string table, AmazonWebServiceResponse response)
    {
        switch (response)
        {
            case PutItemResponse r: Write(table, r.ConsumedCapacity); break;
            case UpdateItemResponse r: Write(table, r.ConsumedCapacity); break;
            case DeleteItemResponse r: Write(table, r.ConsumedCapacity); break;
            case GetItemResponse r: Read(table, r.ConsumedCapacity); break;
            case QueryResponse r: Read(table, r.ConsumedCapacity); break;
            case ScanResponse r: Read(table, r.ConsumedCapacity); break;
        }
    }

    private void Write(string table, ConsumedCapacity? capacity) =>
        _metrics.RecordConsumedCapacity(StoreName, table, 0, capacity?.WriteCapacityUnits ?? capacity?.CapacityUnits ?? 0);

    private void Read(string table, ConsumedCapacity? capacity) =>
        _metrics.RecordConsumedCapacity(StoreName, table, capacity?.ReadCapacityUnits ?? capacity?.CapacityUnits ?? 0, 0);
}
