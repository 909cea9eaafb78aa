using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Migration;

/// <summary>The API starting in <c>current</c> (PostgreSQL), with a DynamoDB endpoint to migrate to.</summary>
public sealed class MigrationApiFactory(string dynamoUrl, string tablePrefix, int backfillItemsPerSecond = 20_000,
    IReadOnlyDictionary<string, string?>? settings = null) : ApiFactory
{
    public string TablePrefix { get; } = tablePrefix;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        // The tests take the migration's steps themselves (the reconciler has its own tests, which turn it on).
        new("Routing:AutoMigrate", "false"),
        new("Routing:ReconcileInterval", "00:00:00.200"),
        new("DynamoDb:ServiceUrl", dynamoUrl),
        new("DynamoDb:TablePrefix", TablePrefix),
        new("DynamoDb:WriteShards", "4"),
        new("DynamoDb:MaxRetries", "2"),
        new("Migration:RoutingPollInterval", "00:00:00.200"),
        new("Migration:OutboxPollInterval", "00:00:00.100"),
        new("Migration:BackfillItemsPerSecond", backfillItemsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Migration:BackfillBatchSize", "100"),
        // Tests seed one organization at a time; the per-organization cap has its own test.
        new("Migration:BackfillItemsPerSecondPerOrganization", backfillItemsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        // A short lease and write time-out keep the fence of a rollback from dynamo-only at a few seconds.
        new("Migration:RoutingLease", "00:00:01"),
        new("DynamoDb:WriteTimeout", "00:00:02"),
        .. settings ?? new Dictionary<string, string?>(),
    ];
}
