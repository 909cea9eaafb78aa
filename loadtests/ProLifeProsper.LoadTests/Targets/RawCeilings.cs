using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Npgsql;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.LoadTests.Engine;

namespace ProLifeProsper.LoadTests.Targets;

/// <summary>
/// The stores' own ceilings on this machine at the same concurrency, so the report can show API efficiency
/// (API throughput / raw store throughput): a single-row PostgreSQL insert into a table shaped like
/// payment_transactions (primary key + 3 indexes), and a conditional DynamoDB PutItem into a table with 3 GSIs.
/// Beside them, the API's own PostgreSQL create path without HTTP (the payment store with group commit), which
/// shows how far batching goes past the single-row ceiling.
/// </summary>
public static class RawCeilings
{
    public static async Task<Func<int, CancellationToken, Task<Outcome>>> PostgresInsertAsync(NpgsqlDataSource dataSource)
    {
        await using (var create = dataSource.CreateCommand(
            "CREATE TABLE IF NOT EXISTS raw_payments (id uuid PRIMARY KEY, organization_id uuid NOT NULL, campaign_id uuid NOT NULL, amount_minor bigint NOT NULL, " +
            "currency char(3) NOT NULL, status text NOT NULL, idempotency_key text NOT NULL, created_at timestamptz NOT NULL); " +
            "CREATE INDEX IF NOT EXISTS ix_raw_org_created ON raw_payments (organization_id, created_at DESC, id DESC); " +
            "CREATE UNIQUE INDEX IF NOT EXISTS ix_raw_idem ON raw_payments (organization_id, idempotency_key); " +
            "CREATE INDEX IF NOT EXISTS ix_raw_campaign ON raw_payments (organization_id, campaign_id)"))
            await create.ExecuteNonQueryAsync();
        var organization = Guid.CreateVersion7();
        return async (_, ct) =>
        {
            await using var insert = dataSource.CreateCommand(
                "INSERT INTO raw_payments VALUES ($1, $2, $3, 2500, 'USD', 'succeeded', $4, now()) ON CONFLICT DO NOTHING");
            insert.Parameters.Add(new() { Value = Guid.CreateVersion7() });
            insert.Parameters.Add(new() { Value = organization });
            insert.Parameters.Add(new() { Value = organization });
            insert.Parameters.Add(new() { Value = Guid.NewGuid().ToString("N") });
            return new Outcome(await insert.ExecuteNonQueryAsync(ct) == 1, 0);
        };
    }

    /// <summary>
    /// The payment store's create (payment + idempotency record, group-committed), called directly at the same
    /// concurrency on a migrated database of its own. Dispose the returned batcher when done.
    /// </summary>
    public static async Task<(Func<int, CancellationToken, Task<Outcome>> Operation, IAsyncDisposable Batcher)> PostgresGroupCommitAsync(NpgsqlDataSource dataSource)
    {
        await ProLifeProsperDbContext.MigrateAsync(dataSource);
        var batcher = new PostgreSqlCreateBatcher(dataSource);
        var store = new PostgreSqlPaymentTransactionStore(dataSource, batcher);
        var organization = Guid.CreateVersion7();
        var request = PaymentRequest.Create(Guid.CreateVersion7(), Guid.CreateVersion7(), 2_500, "USD", "card", SandboxPaymentGateway.Visa);
        var fingerprint = request.Fingerprint();
        return (async (_, ct) =>
        {
            var key = Guid.NewGuid().ToString("N");
            var now = UtcClock.Now(TimeProvider.System);
            var payment = PaymentTransaction.Create(organization, request, GatewayOutcome.Succeeded, key, now);
            var record = new IdempotencyRecord(organization, key, fingerprint, payment.TransactionId, PaymentSnapshotJson.Serialize(payment), now);
            return new Outcome((await store.CreateAsync(payment, record, ct)).ResourceId == payment.TransactionId, 0);
        }, batcher);
    }

    public static async Task<Func<int, CancellationToken, Task<Outcome>>> DynamoPutItemAsync(IAmazonDynamoDB dynamo)
    {
        var table = $"raw_payments_{Guid.NewGuid():N}";
        await dynamo.CreateTableAsync(new CreateTableRequest
        {
            TableName = table,
            BillingMode = BillingMode.PAY_PER_REQUEST,
            AttributeDefinitions = [new("pk", ScalarAttributeType.S), new("sk", ScalarAttributeType.S), new("id", ScalarAttributeType.S), new("g2", ScalarAttributeType.S), new("g3", ScalarAttributeType.S)],
            KeySchema = [new("pk", KeyType.HASH), new("sk", KeyType.RANGE)],
            GlobalSecondaryIndexes =
            [
                new() { IndexName = "gsi1", KeySchema = [new("id", KeyType.HASH)], Projection = new() { ProjectionType = ProjectionType.KEYS_ONLY } },
                new() { IndexName = "gsi2", KeySchema = [new("g2", KeyType.HASH), new("sk", KeyType.RANGE)], Projection = new() { ProjectionType = ProjectionType.ALL } },
                new() { IndexName = "gsi3", KeySchema = [new("g3", KeyType.HASH), new("pk", KeyType.RANGE)], Projection = new() { ProjectionType = ProjectionType.ALL } },
            ],
        });
        var organization = Guid.CreateVersion7().ToString("D");
        var padding = new string('x', 180);
        return async (_, ct) =>
        {
            var id = Guid.CreateVersion7().ToString("D");
            await dynamo.PutItemAsync(new PutItemRequest
            {
                TableName = table,
                Item = new()
                {
                    ["pk"] = new(organization), ["sk"] = new($"{DateTime.UtcNow:O}#{id}"), ["id"] = new(id),
                    ["g2"] = new($"pending#{id[^1]}"), ["g3"] = new($"{DateTime.UtcNow:yyyy-MM-ddTHH}#{id[^2]}"), ["pad"] = new(padding),
                },
                ConditionExpression = "attribute_not_exists(pk)",
            }, ct);
            return new Outcome(true, 0);
        };
    }

    /// <summary>
    /// The one write a create in one round trip would make (docs/dynamodb.md, "A create in one round trip: why it is
    /// not built"): the payment item as the API maps it, keyed by its idempotency key so that the conditional put is the claim
    /// (partition organization#h, h = a hash of the key mod 16, sort key the key), with a local secondary index for time
    /// order and the API's id index. Its rate is that design's ceiling here, beside the plain PutItem's.
    /// </summary>
    public static async Task<Func<int, CancellationToken, Task<Outcome>>> DynamoClaimPutItemAsync(IAmazonDynamoDB dynamo)
    {
        var table = $"raw_claims_{Guid.NewGuid():N}";
        await dynamo.CreateTableAsync(new CreateTableRequest
        {
            TableName = table,
            BillingMode = BillingMode.PAY_PER_REQUEST,
            AttributeDefinitions = [new("pk", ScalarAttributeType.S), new("sk", ScalarAttributeType.S), new(Api.Storage.DynamoDb.PaymentItemKeys.SortKey, ScalarAttributeType.S),
                new(Api.Storage.DynamoDb.PaymentItemKeys.TransactionId, ScalarAttributeType.S)],
            KeySchema = [new("pk", KeyType.HASH), new("sk", KeyType.RANGE)],
            LocalSecondaryIndexes =
            [
                new() { IndexName = "created", KeySchema = [new("pk", KeyType.HASH), new(Api.Storage.DynamoDb.PaymentItemKeys.SortKey, KeyType.RANGE)], Projection = new() { ProjectionType = ProjectionType.ALL } },
            ],
            GlobalSecondaryIndexes =
            [
                new() { IndexName = "transactionId", KeySchema = [new(Api.Storage.DynamoDb.PaymentItemKeys.TransactionId, KeyType.HASH)], Projection = new() { ProjectionType = ProjectionType.KEYS_ONLY } },
            ],
        });
        var organization = Guid.CreateVersion7();
        var request = PaymentRequest.Create(Guid.CreateVersion7(), Guid.CreateVersion7(), 2_500, "USD", "card", SandboxPaymentGateway.Visa);
        return async (_, ct) =>
        {
            var key = Guid.NewGuid().ToString();
            var payment = PaymentTransaction.Create(organization, request, GatewayOutcome.Succeeded, key, UtcClock.Now(TimeProvider.System));
            var item = Api.Storage.DynamoDb.PaymentItemMapper.ToItem(payment, 8, 1);
            item.Remove(Api.Storage.DynamoDb.PaymentItemKeys.Partition); // the claim's keys replace it; the time order stays for the LSI
            item["pk"] = new($"{organization:D}#{(uint)key.GetHashCode() % 16}");
            item["sk"] = new(key);
            await dynamo.PutItemAsync(new PutItemRequest { TableName = table, Item = item, ConditionExpression = "attribute_not_exists(pk)" }, ct);
            return new Outcome(true, 0);
        };
    }
}
