using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Options;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Whether DynamoDB answers payment reads now: one strongly consistent GetItem of a key no payment has (half a read unit),
/// bounded by <see cref="Timeout"/>. A throttle is an answer (DynamoDB is there, only busy); anything else (no connection,
/// a time-out, a server error, a missing table) is a failure. Used by the reconciler's failover policy.
/// </summary>
public sealed class DynamoDbAvailabilityProbe(IAmazonDynamoDB dynamo, IOptions<DynamoDbOptions> options)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    /// <summary>Null when DynamoDB answered, else what went wrong.</summary>
    public async Task<string?> FailureAsync(CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(Timeout);
        try
        {
            await dynamo.GetItemAsync(new GetItemRequest
            {
                TableName = options.Value.TransactionsTableName,
                ConsistentRead = true,
                Key = new()
                {
                    [PaymentItemKeys.Partition] = new AttributeValue { S = "availability-probe" },
                    [PaymentItemKeys.SortKey] = new AttributeValue { S = "availability-probe" },
                },
            }, bounded.Token);
            return null;
        }
        catch (AmazonDynamoDBException e) when (DynamoDbCaller.IsThrottle(e))
        {
            return null;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return e is OperationCanceledException ? $"no answer within {Timeout.TotalSeconds:0} s" : $"{e.GetType().Name}: {e.Message}";
        }
    }
}
