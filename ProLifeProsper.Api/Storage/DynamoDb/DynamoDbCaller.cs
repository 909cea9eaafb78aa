using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using ProLifeProsper.Api.Storage.Instrumentation;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Every DynamoDB call goes through here: every transient failure is retried with exponential backoff and jitter,
/// and counted; the capacity each response reports is recorded, and that of each refused conditional write; each call
/// is a span (<see cref="DynamoDbTracing"/>). The SDK's own retries are off so that every retry is seen. Transient means
/// throttling (ProvisionedThroughputExceeded, RequestLimitExceeded, ThrottlingException), server errors, and a lost or
/// broken connection or time-out (reset, I/O error, HttpRequestException, socket error, an SDK or HttpClient time-out) —
/// but never the caller's own cancellation.
/// <para>
/// Retrying a call whose response was lost may apply a write twice: every retried write in this codebase is conditional,
/// so the repeat fails its condition, and the store reads a failed condition after a retry as "maybe applied". The one
/// unconditional write, the outbox drain's batched copy, is sent once (<c>retry: false</c>): its caller must know when
/// nothing of it can land any more.
/// </para>
/// </summary>
public sealed class DynamoDbCaller
{
    private const string StoreName = DynamoDbPaymentTransactionStore.StoreName;
    private static readonly ResiliencePropertyKey<string> OperationKey = new("dynamodb.operation");
    private static readonly ResiliencePropertyKey<Activity?> SpanKey = new("dynamodb.span");

    private readonly StoreMetrics? _metrics;
    private readonly ResiliencePipeline _pipeline;

    /// <param name="metrics">Where retries and capacity are counted; null for a tool that has no metrics (it still retries).</param>
    /// <param name="options">The retry budget.</param>
    public DynamoDbCaller(StoreMetrics? metrics, IOptions<DynamoDbOptions> options)
    {
        _metrics = metrics;
        _pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                // The context's token is the caller's: a failure after the caller gave up is not retried.
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsTransient(e, args.Context.CancellationToken)),
                MaxRetryAttempts = options.Value.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(25),
                MaxDelay = TimeSpan.FromSeconds(2),
                OnRetry = args =>
                {
                    args.Context.Properties.TryGetValue(OperationKey, out var operation);
                    if (args.Context.Properties.TryGetValue(SpanKey, out var span)) DynamoDbTracing.Retrying(span, args.AttemptNumber + 1, args.Outcome.Exception);
                    _metrics?.RecordRetry(StoreName, operation ?? "unknown", args.Outcome.Exception is AmazonDynamoDBException e && IsThrottle(e));
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>
    /// Items a batch request left unprocessed (DynamoDB's throttle for batches: the request itself succeeds), about to be
    /// sent again: counted like a throttled retry.
    /// </summary>
    public void UnprocessedRetry(string operation) => _metrics?.RecordRetry(StoreName, operation, throttled: true);

    /// <summary>Counts a read of payments for kept totals cut off before it finished, and whether any of its slices were complete.</summary>
    public void AggregateReadCutOff(int slicesComplete) => _metrics?.RecordAggregateReadCutOff(StoreName, slicesComplete);

    // By error code too: an operation whose model lacks the throttle's type (DescribeTable, CreateTable) gets a
    // plain AmazonDynamoDBException carrying it.
    public static bool IsThrottle(AmazonDynamoDBException e) =>
        e is ProvisionedThroughputExceededException or RequestLimitExceededException
        || e.ErrorCode is "ProvisionedThroughputExceededException" or "RequestLimitExceeded" or "ThrottlingException" or "Throttling";

    /// <summary>
    /// Whether <paramref name="e"/> may succeed if the call is made again. The SDK surfaces a broken connection
    /// as the raw exception (it unwraps an HttpRequestException's IOException, and an HttpClient time-out's
    /// TimeoutException), or wrapped in an AmazonClientException/AmazonServiceException; all are looked through.
    /// </summary>
    public static bool IsTransient(Exception e, CancellationToken callerToken)
    {
        if (callerToken.IsCancellationRequested) return false;
        return e switch
        {
            AmazonDynamoDBException d when IsThrottle(d) || d is InternalServerErrorException => true,
            AmazonServiceException s when s.StatusCode >= HttpStatusCode.InternalServerError => true,
            // A response that arrived broken (cut off mid-body) is a lost response.
            AmazonUnmarshallingException => true,
            HttpRequestException or IOException or SocketException or TimeoutException => true,
            // The caller's token is not cancelled (checked above), so this is an SDK or HttpClient time-out.
            OperationCanceledException => true,
            AmazonServiceException or AmazonClientException => e.InnerException is { } inner && IsTransient(inner, callerToken),
            _ => false,
        };
    }

    /// <param name="retry">
    /// False: one attempt only (a write without a condition, whose earlier attempt could otherwise still land after a
    /// retry's answer: the caller must know when nothing of its call can arrive any more).
    /// </param>
    public async Task<TResponse> CallAsync<TResponse>(string operation, string table, Func<CancellationToken, Task<TResponse>> call, CancellationToken cancellationToken,
        bool retry = true)
        where TResponse : AmazonWebServiceResponse
    {
        using var span = DynamoDbTracing.Start<TResponse>(operation, table);
        // The SDK's HTTP request would be a bare "POST" child of this span, once per attempt: the span says it all (retries are its events).
        using var quiet = span is null ? null : Untraced.Begin();
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(OperationKey, operation);
        context.Properties.Set(SpanKey, span);
        try
        {
            var response = await (retry ? _pipeline : ResiliencePipeline.Empty).ExecuteAsync(static async (ctx, state) => await state(ctx.CancellationToken), context, call);
            RecordCapacity(table, response);
            DynamoDbTracing.Succeeded(span, response);
            return response;
        }
        catch (ConditionalCheckFailedException e)
        {
            // A refused condition is billed like a write of the item it was checked against (at least 1 unit), but its
            // answer carries no consumed capacity: sized from the item it returns (ReturnValuesOnConditionCheckFailure = ALL_OLD).
            _metrics?.RecordConsumedCapacity(StoreName, table, 0, FailedWriteUnits(e));
            DynamoDbTracing.Failed(span, e);
            throw;
        }
        catch (Exception e)
        {
            DynamoDbTracing.Failed(span, e);
            throw;
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
            case BatchWriteItemResponse r:
                foreach (var c in r.ConsumedCapacity ?? []) Write(c.TableName ?? table, c);
                break;
        }
    }

    /// <summary>
    /// Write units DynamoDB bills for a refused conditional write: those of the existing item the condition was checked
    /// against, 1 when there is none. The item comes back only when the request asked for it (ALL_OLD); without it, 1.
    /// </summary>
    public static double FailedWriteUnits(ConditionalCheckFailedException e) =>
        DynamoDbItemSize.WriteUnits(e.Item is { Count: > 0 } existing ? DynamoDbItemSize.Of(existing) : 0);

    private void Write(string table, ConsumedCapacity? capacity) =>
        _metrics?.RecordConsumedCapacity(StoreName, table, 0, capacity?.WriteCapacityUnits ?? capacity?.CapacityUnits ?? 0);

    private void Read(string table, ConsumedCapacity? capacity) =>
        _metrics?.RecordConsumedCapacity(StoreName, table, capacity?.ReadCapacityUnits ?? capacity?.CapacityUnits ?? 0, 0);
}
