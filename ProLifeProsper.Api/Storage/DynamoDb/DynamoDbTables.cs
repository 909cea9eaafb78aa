using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using AggregateKeys = ProLifeProsper.Api.Storage.DynamoDb.Aggregates.AggregateKeys;
using PaymentAggregates = ProLifeProsper.Api.Storage.DynamoDb.Aggregates.PaymentAggregates;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// The definition of every DynamoDB table the product uses, in one place, for both billing modes.
/// Index projections are chosen for cost: the id index only finds the key (KEYS_ONLY), the sparse pending
/// index carries the whole item the settlement worker needs (ALL). There is no hourly index any more: analytics and
/// campaign progress come from kept totals (<see cref="PaymentAggregates"/>), so no payment write pays for one.
/// </summary>
public static class DynamoDbTables
{
    public const string IdempotencyPartition = PaymentItemKeys.Partition;
    public const string IdempotencyOrganizationId = "organizationId";
    public const string IdempotencyKey = "idempotencyKey";

    /// <summary>The names capacity settings take (<c>DynamoDb:ProvisionedThroughput</c>, <c>DynamoDb:WarmThroughput</c>): each is a pool of capacity.</summary>
    public const string TransactionsTarget = "transactions", IdempotencyTarget = "idempotency", AggregatesTarget = "aggregates";

    public static readonly IReadOnlyList<string> CapacityTargets =
        [TransactionsTarget, IdempotencyTarget, AggregatesTarget, PaymentItemKeys.TransactionIdIndex, PaymentItemKeys.StatusTimestampIndex];

    /// <summary>
    /// The hourly index tables made by earlier releases carry. Nothing reads or writes it now; settings that still name it are
    /// accepted and ignored, so an upgrade does not fail on them (delete the index from such a table to stop paying for it).
    /// </summary>
    public const string RetiredHourlyIndex = "dateHour-index";

    public static CreateTableRequest Transactions(DynamoDbOptions options)
    {
        var request = new CreateTableRequest
        {
            TableName = options.TransactionsTableName,
            Tags = [IndexShards.Tag(options.WriteShards)], // the shard count its first writers use (see IndexShards)
            AttributeDefinitions =
            [
                new(PaymentItemKeys.Partition, ScalarAttributeType.S),
                new(PaymentItemKeys.OrganizationId, ScalarAttributeType.S),
                new(PaymentItemKeys.SortKey, ScalarAttributeType.S),
                new(PaymentItemKeys.TransactionId, ScalarAttributeType.S),
                new(PaymentItemKeys.StatusShard, ScalarAttributeType.S),
            ],
            KeySchema = [new(PaymentItemKeys.Partition, KeyType.HASH), new(PaymentItemKeys.SortKey, KeyType.RANGE)],
            GlobalSecondaryIndexes =
            [
                Index(options, PaymentItemKeys.TransactionIdIndex, PaymentItemKeys.TransactionId, null, new Projection { ProjectionType = ProjectionType.KEYS_ONLY }),
                Index(options, PaymentItemKeys.StatusTimestampIndex, PaymentItemKeys.StatusShard, PaymentItemKeys.SortKey, new Projection { ProjectionType = ProjectionType.ALL }),
            ],
        };
        request.WarmThroughput = Warm(options, TransactionsTarget);
        return WithBilling(request, options, TransactionsTarget);
    }

    public static CreateTableRequest Idempotency(DynamoDbOptions options) => WithBilling(new CreateTableRequest
    {
        TableName = options.IdempotencyTableName,
        WarmThroughput = Warm(options, IdempotencyTarget),
        AttributeDefinitions = [new(IdempotencyPartition, ScalarAttributeType.S), new(IdempotencyKey, ScalarAttributeType.S)],
        KeySchema = [new(IdempotencyPartition, KeyType.HASH), new(IdempotencyKey, KeyType.RANGE)],
    }, options, IdempotencyTarget);

    /// <summary>Kept totals of closed hours and days, and the marks that say when they must be read again (<see cref="PaymentAggregates"/>).</summary>
    public static CreateTableRequest Aggregates(DynamoDbOptions options) => WithBilling(new CreateTableRequest
    {
        TableName = options.AggregatesTableName,
        WarmThroughput = Warm(options, AggregatesTarget),
        AttributeDefinitions = [new(AggregateKeys.Partition, ScalarAttributeType.S), new(AggregateKeys.Bucket, ScalarAttributeType.S)],
        KeySchema = [new(AggregateKeys.Partition, KeyType.HASH), new(AggregateKeys.Bucket, KeyType.RANGE)],
    }, options, AggregatesTarget);

    public static IEnumerable<CreateTableRequest> All(DynamoDbOptions options) => [Transactions(options), Idempotency(options), Aggregates(options)];

    private static GlobalSecondaryIndex Index(DynamoDbOptions options, string name, string partitionKey, string? sortKey, Projection projection)
    {
        var index = new GlobalSecondaryIndex
        {
            IndexName = name,
            KeySchema = sortKey is null ? [new(partitionKey, KeyType.HASH)] : [new(partitionKey, KeyType.HASH), new(sortKey, KeyType.RANGE)],
            Projection = projection,
            WarmThroughput = Warm(options, name),
        };
        if (options.BillingMode == DynamoDbBillingMode.Provisioned) index.ProvisionedThroughput = options.ProvisionedThroughputOf(name);
        return index;
    }

    private static CreateTableRequest WithBilling(CreateTableRequest request, DynamoDbOptions options, string target)
    {
        if (options.BillingMode == DynamoDbBillingMode.Provisioned)
        {
            request.BillingMode = BillingMode.PROVISIONED;
            request.ProvisionedThroughput = options.ProvisionedThroughputOf(target);
        }
        else
        {
            request.BillingMode = BillingMode.PAY_PER_REQUEST;
        }
        return request;
    }

    /// <summary>The warm throughput configured for a table (<c>transactions</c>, <c>idempotency</c>) or an index, if any.</summary>
    public static WarmThroughput? Warm(DynamoDbOptions options, string target) =>
        options.WarmThroughput.TryGetValue(target, out var warm) ? warm.ToRequest() : null;
}
