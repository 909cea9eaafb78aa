using System.Diagnostics.Metrics;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Capacity;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.Instrumentation;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.LocalInfrastructure;
using ProLifeProsper.Testing;

namespace ProLifeProsper.Api.Tests.Capacity;

/// <summary>
/// The model's items are the store's: the model's sample payments, written through the real store on dynalite, leave exactly
/// the items the model measured (so an attribute the store adds outside the mappers is caught), and the live consumed-capacity
/// metric counts what the model says for the table writes (dynalite reports no index writes), refused conditions included.
/// </summary>
public sealed class CapacityItemsStoreTests
{
    private const int Shards = 4;

    private sealed record Tables(IAmazonDynamoDB Client, DynamoDbOptions Options, StoreMetrics Metrics, DynamoDbPaymentTransactionStore Store) : IDisposable
    {
        public double Written => Metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName).ConsumedWriteCapacity;

        public double Read => Metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName).ConsumedReadCapacity;

        public async Task<Dictionary<string, AttributeValue>> PaymentAsync(PaymentTransaction payment) =>
            (await Client.GetItemAsync(new GetItemRequest { TableName = Options.TransactionsTableName, Key = PaymentItemMapper.KeyOf(payment, 1), ConsistentRead = true })).Item;

        public async Task<Dictionary<string, AttributeValue>> RecordAsync(IdempotencyRecord record) =>
            (await Client.GetItemAsync(new GetItemRequest
            {
                TableName = Options.IdempotencyTableName,
                ConsistentRead = true,
                Key = new()
                {
                    [DynamoDbTables.IdempotencyPartition] = new(PaymentItemKeys.IdempotencyPartitionOf(record.OrganizationId, record.Key)),
                    [DynamoDbTables.IdempotencyKey] = new(record.Key),
                },
            })).Item;

        public void Dispose() => Client.Dispose();
    }

    private static async Task<Tables> NewTablesAsync()
    {
        var client = (await DynaliteServer.GetAsync()).CreateClient();
        var options = Options.Create(new DynamoDbOptions { TablePrefix = DynaliteServer.NewTablePrefix("items"), WriteShards = Shards });
        await new DynamoDbTableInitializer(client, options, NullLogger<DynamoDbTableInitializer>.Instance).EnsureTablesAsync(default);
        var metrics = new StoreMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>(), TimeProvider.System);
        return new Tables(client, options.Value, metrics, new DynamoDbPaymentTransactionStore(client, new DynamoDbCaller(metrics, options), options));
    }

    public static TheoryData<string> Keys => new()
    {
        CapacityItems.RepresentativeKey(36),
        CapacityItems.RepresentativeKey(IdempotencyRecord.MaxKeyLength),
        CapacityItems.WorstCaseKey,
    };

    private static void AssertSame(Dictionary<string, AttributeValue> modelled, Dictionary<string, AttributeValue> stored)
    {
        Assert.Equal(modelled.Keys.Order(), stored.Keys.Order());
        Assert.Equal(DynamoDbItemSize.Of(modelled), DynamoDbItemSize.Of(stored));
    }

    [Theory, MemberData(nameof(Keys))]
    public async Task A_card_payment_created_and_refunded_through_the_store_leaves_the_items_the_model_measured(string key)
    {
        using var tables = await NewTablesAsync();
        var m = CapacityItems.Build(key, Shards);
        var units = CapacityUnits.PerOperation(m);
        double TableWrites(string operation) => units.Single(u => u.Operation == operation).Writes
            .Where(w => w.Key is DynamoDbTables.TransactionsTarget or DynamoDbTables.IdempotencyTarget).Sum(w => w.Value);

        var written = tables.Written;
        await tables.Store.CreateAsync(m.Card, m.CardRecord, default);
        AssertSame(m.CardItem, await tables.PaymentAsync(m.Card));
        AssertSame(m.CardRecordItem, await tables.RecordAsync(m.CardRecord));
        Assert.Equal(TableWrites(CapacityUnits.CreateCard), tables.Written - written);

        written = tables.Written;
        Assert.Equal(m.RefundRecord, await tables.Store.UpdateAsync(m.Refunded, m.RefundRecord, default));
        AssertSame(m.RefundedItem, await tables.PaymentAsync(m.Card));
        AssertSame(m.RefundRecordItem, await tables.RecordAsync(m.RefundRecord));
        Assert.Equal(TableWrites(CapacityUnits.Refund), tables.Written - written);
    }

    [Theory, MemberData(nameof(Keys))]
    public async Task A_bank_transfer_created_and_settled_through_the_store_leaves_the_items_the_model_measured(string key)
    {
        using var tables = await NewTablesAsync();
        var m = CapacityItems.Build(key, Shards);

        await tables.Store.CreateAsync(m.Pending, m.PendingRecord, default);
        AssertSame(m.PendingItem, await tables.PaymentAsync(m.Pending));
        AssertSame(m.PendingRecordItem, await tables.RecordAsync(m.PendingRecord));

        await tables.Store.UpdateAsync(m.Settled, null, default);
        AssertSame(m.SettledItem, await tables.PaymentAsync(m.Pending));
    }

    [Fact]
    public async Task A_replayed_create_counts_its_refused_writes_in_the_consumed_capacity_metric()
    {
        using var tables = await NewTablesAsync();
        var m = CapacityItems.Build(Guid.NewGuid().ToString("D"), Shards);
        await tables.Store.CreateAsync(m.Card, m.CardRecord, default);

        var (written, read) = (tables.Written, tables.Read);
        var replay = await tables.Store.CreateAsync(m.Card with { TransactionId = Guid.CreateVersion7() }, m.CardRecord with { ResourceId = Guid.CreateVersion7() }, default);
        Assert.Equal(m.CardRecord, replay); // the key's first record: nothing was written

        // Two refused puts (the record, then the payment the record completes) and the record read, as the model bills them.
        var replayed = CapacityUnits.PerOperation(m).Single(u => u.Operation == CapacityUnits.ReplayedCreate);
        Assert.Equal(2, replayed.WriteUnits);
        Assert.Equal(replayed.WriteUnits, tables.Written - written);
        Assert.Equal(replayed.ReadUnits, tables.Read - read);
    }

    [Fact]
    public void A_refusal_is_billed_by_the_item_it_was_checked_against()
    {
        // DynamoDB answers a refused condition with the existing item when asked (ALL_OLD), never with consumed capacity.
        var existing = new Dictionary<string, AttributeValue> { ["pk"] = new("p"), ["body"] = new(new string('x', 2_500)) };
        Assert.Equal(3, DynamoDbCaller.FailedWriteUnits(new ConditionalCheckFailedException("refused") { Item = existing }));
        Assert.Equal(1, DynamoDbCaller.FailedWriteUnits(new ConditionalCheckFailedException("refused"))); // no item: the minimum
    }
}
