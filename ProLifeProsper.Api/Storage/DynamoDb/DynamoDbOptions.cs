namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>How the DynamoDB tables are billed.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<DynamoDbBillingMode>))] // as configuration spells it
public enum DynamoDbBillingMode
{
    /// <summary>Pay per request; scales by itself. The recommended default.</summary>
    OnDemand,
    /// <summary>Fixed read/write capacity units per table and index (<see cref="DynamoDbOptions.ProvisionedThroughput"/>).</summary>
    Provisioned,
}

/// <summary>
/// Configuration section <c>DynamoDb</c>. The endpoint, region and credentials follow AWS conventions
/// (standard credential chain, <c>AWS_REGION</c>, <c>AWS_ENDPOINT_URL_DYNAMODB</c> for a local server);
/// <see cref="ServiceUrl"/> overrides the endpoint for one process only (tests).
/// </summary>
public sealed class DynamoDbOptions
{
    public const string SectionName = "DynamoDb";

    /// <summary>Prefix for table names, e.g. per environment or test run (<c>staging_</c>).</summary>
    public string TablePrefix { get; set; } = "";

    public DynamoDbBillingMode BillingMode { get; set; } = DynamoDbBillingMode.OnDemand;

    /// <summary>
    /// Provisioned mode only: read capacity units of every table and index that <see cref="ProvisionedThroughput"/> does not
    /// list. Each of the five pools (three tables, two indexes) gets this much: five times what one pool costs.
    /// </summary>
    public long ReadCapacityUnits { get; set; } = 1_000;

    /// <summary>Provisioned mode only: write capacity units of every table and index not listed, as above.</summary>
    public long WriteCapacityUnits { get; set; } = 2_000;

    /// <summary>
    /// Provisioned mode only: capacity units per table and index (<c>transactions</c>, <c>idempotency</c>, or an index name),
    /// set by CreateTable and applied to existing tables by UpdateTable at start-up and by <c>create-dynamodb-tables</c>.
    /// </summary>
    public Dictionary<string, DynamoDbProvisionedThroughput> ProvisionedThroughput { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Write shards of the pending-status index (see <see cref="PaymentItemKeys"/>). May only grow:
    /// reads scan shards 0..n-1, so items written with a smaller n are still found.
    /// </summary>
    public int WriteShards { get; set; } = 8;

    /// <summary>The most write shards the API takes (each read of the pending index asks every shard).</summary>
    public const int MaxWriteShards = 1_000;

    /// <summary>
    /// Pre-warmed throughput per table and index (<c>transactions</c>, <c>idempotency</c>, or an index name), applied when a
    /// table is created and raised on existing tables at start-up (UpdateTable; never lowered). Empty: DynamoDB's defaults.
    /// </summary>
    public Dictionary<string, DynamoDbWarmThroughput> WarmThroughput { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Create missing tables at start-up (on in Development and tests; production uses the explicit command).</summary>
    public bool? CreateTablesOnStartup { get; set; }

    /// <summary>Endpoint override for this process; normally unset (AWS_ENDPOINT_URL_DYNAMODB or the regional endpoint).</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>Region override; normally unset (AWS_REGION or the profile's region).</summary>
    public string? Region { get; set; }

    /// <summary>How many times a throttled or transiently failed call is retried (exponential backoff with jitter).</summary>
    public int MaxRetries { get; set; } = 8;

    /// <summary>
    /// The longest one step of a write may take, its retries included. A write that claimed its idempotency key finishes
    /// its second step within this even if the client has gone; a write under <c>dynamo-only</c> is abandoned after it, so
    /// a rollback knows when no such write can still land (its fence).
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The most items one filtered list request (<c>?status=</c>) reads before it answers: what it found so far, with a
    /// cursor where it stopped. A status filter is applied after the read, so without a bound one request for a rare
    /// status would read the organization's whole history.
    /// </summary>
    public int MaxItemsReadPerFilteredPage { get; set; } = 2_000;

    /// <summary>The provisioned throughput of a table or index: as listed in <see cref="ProvisionedThroughput"/>, else the defaults.</summary>
    public Amazon.DynamoDBv2.Model.ProvisionedThroughput ProvisionedThroughputOf(string target) =>
        ProvisionedThroughput.TryGetValue(target, out var pool)
            ? new(pool.ReadCapacityUnits ?? ReadCapacityUnits, pool.WriteCapacityUnits ?? WriteCapacityUnits)
            : new(ReadCapacityUnits, WriteCapacityUnits);

    /// <summary>What is wrong with the capacity settings: names that are no table or index, units below 1.</summary>
    public IEnumerable<string> CapacityProblems()
    {
        foreach (var name in WarmThroughput.Keys.Concat(ProvisionedThroughput.Keys).Where(n => !DynamoDbTables.CapacityTargets.Contains(n) && n != DynamoDbTables.RetiredHourlyIndex).Distinct())
            yield return $"'{name}' is no table or index (use {string.Join(", ", DynamoDbTables.CapacityTargets)}).";
        if (BillingMode == DynamoDbBillingMode.Provisioned && DynamoDbTables.CapacityTargets.Select(ProvisionedThroughputOf).Any(t => t.ReadCapacityUnits < 1 || t.WriteCapacityUnits < 1))
            yield return "Provisioned capacity units must be at least 1.";
    }

    /// <summary>
    /// Kept campaign and analytics totals count only when kept under this generation. Raise it (any new number) to set every
    /// kept total aside, so each is read again from the payments: after a rolling upgrade has finished from a release that
    /// wrote payments without marking their hours in both their day and their month (any release before this one), after
    /// running such a release again, and after restoring a table from a backup. Costs one read of each organization's
    /// history, spread over the requests that need it.
    /// </summary>
    public int AggregatesGeneration { get; set; } = 1;

    public string TransactionsTableName => TablePrefix + "pro_life_prosper_transactions";

    public string IdempotencyTableName => TablePrefix + "pro_life_prosper_idempotency";

    public string AggregatesTableName => TablePrefix + "pro_life_prosper_aggregates";
}
