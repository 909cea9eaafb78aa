using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.DynamoDb.Aggregates;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Capacity;

/// <summary>
/// Capacity units one operation costs on DynamoDB, per pool (a table or an index: each is billed, provisioned and
/// throttled on its own; named as in <c>DynamoDb:ProvisionedThroughput</c>).
/// </summary>
public sealed record OperationUnits(string Operation, IReadOnlyDictionary<string, double> Writes, IReadOnlyDictionary<string, double> Reads, string HowComputed)
{
    public double WriteUnits => Writes.Values.Sum();

    public double ReadUnits => Reads.Values.Sum();
}

/// <summary>
/// Units per operation, from the items the code writes (<see cref="CapacityItems"/>: built by the store's own mappers) and
/// the tables and indexes it defines (<see cref="DynamoDbTables"/>), call by call as the store issues them. DynamoDB's rules:
/// a write costs 1 unit per KB of the larger of the item before and after; each index the write touches costs the same per
/// KB of its entry (the table's keys, the index's keys and the projected attributes): a put when the item enters it, a
/// delete when it leaves, both when its index key changes, one write when a projected attribute changes, nothing
/// otherwise. A write refused by its condition costs the units of the existing item (1 when there is none) and touches no
/// index. A read costs 1 unit per 4 KB strongly consistent (half eventually consistent), at least one block even when
/// nothing is found; a query rounds the sum of the items it reads.
/// </summary>
public static class CapacityUnits
{
    // The operations, by name (the cost model looks them up by these).
    public const string CreateCard = "create payment (card)";
    public const string CreatePending = "create payment (bank transfer, pending)";
    public const string Settle = "settle (pending → succeeded)";
    public const string Refund = "refund";
    public const string GetById = "get payment by id";
    public const string ListPage = "list one page";
    public const string HourlyAnalytics = "hourly analytics, 24 h";
    public const string CampaignProgress = "campaign progress, a year of history";
    public const string ReplayedCreate = "create replayed or lost race (key taken)";
    public const string ReplayedRefund = "refund replayed (key taken)";
    public const string RefundLostRace = "refund that lost a race (extra, then retried)";
    public const string StaleSettlement = "settlement of a payment changed since read (extra)";

    private const string Transactions = DynamoDbTables.TransactionsTarget, Idempotency = DynamoDbTables.IdempotencyTarget,
        Aggregates = DynamoDbTables.AggregatesTarget;

    /// <summary>Item sizes in bytes (DynamoDB's rules) of what the code writes, with keys of <see cref="IdempotencyKeyLength"/> characters.</summary>
    public sealed record ItemSizes(
        int IdempotencyKeyLength, int Payment, int PendingPayment, int SettledPayment, int RefundedPayment,
        int IdempotencyRecord, int RefundRecord, int TransactionIdIndexEntry, int StatusIndexEntry);

    public static double WriteUnits(int bytes) => DynamoDbItemSize.WriteUnits(bytes);

    public static double ReadUnits(int bytes, bool consistent) => DynamoDbItemSize.ReadUnits(bytes, consistent);

    /// <summary>The transactions table as the code defines it (the billing mode does not change its indexes).</summary>
    public static CreateTableRequest TransactionsTable { get; } = DynamoDbTables.Transactions(new DynamoDbOptions());

    /// <summary>The units of each operation, for the items given.</summary>
    public static IReadOnlyList<OperationUnits> PerOperation(CapacityItems items, int pageSize = PaymentListQuery.DefaultLimit)
    {
        var table = TransactionsTable;
        var card = items.CardItem;
        // What every range that reaches today reads after its kept days: today's kept hours, then the payments not kept yet.
        Step[] today =
        [
            Read("Query today's kept hours, up to 23 (eventually consistent)", Aggregates, ReadUnits(23 * DynamoDbItemSize.Of(KeptHour(card)), consistent: false)),
            Read("GetItem the open hour's kept slices, up to 11 (eventually consistent)", Aggregates, ReadUnits(DynamoDbItemSize.Of(KeptSlices(card)), consistent: false)),
            Read("GetItem their marks (consistent)", Aggregates, ReadUnits(DynamoDbItemSize.Of(SliceMarks()), consistent: true)),
            Read("Query the open window's payments (consistent; minimum here: it grows with the organization's rate, not its history)",
                Transactions, ReadUnits(0, consistent: true)),
        ];
        return
        [
            Operation(CreateCard,
                Put("PutItem record", Idempotency, items.CardRecordItem),
                Put("PutItem payment", table, card)),
            Operation(CreatePending,
                Put("PutItem record", Idempotency, items.PendingRecordItem),
                Put("PutItem payment", table, items.PendingItem)),
            Operation(Settle,
                Read("Query pending index (eventually consistent, its share of a page)", PaymentItemKeys.StatusTimestampIndex,
                    Shared(IndexEntrySize(table, PaymentItemKeys.StatusTimestampIndex, items.PendingItem)!.Value, consistent: false)),
                Read("BatchGetItem re-read (consistent)", Transactions, ReadUnits(DynamoDbItemSize.Of(items.PendingItem), consistent: true)),
                Put(MarkLabel, Aggregates, Marks(24)),
                Put(MonthMarkLabel, Aggregates, Marks(31)),
                Put(SliceMarkLabel, Aggregates, SliceMarks()),
                Update("UpdateItem payment", table, items.PendingItem, items.SettledItem)),
            Operation(Refund,
                Read("GetItem key (consistent, absent)", Idempotency, ReadUnits(0, consistent: true)),
                Read("GetItem payment (consistent)", Transactions, ReadUnits(DynamoDbItemSize.Of(card), consistent: true)),
                Put("PutItem record", Idempotency, items.RefundRecordItem),
                Put(MarkLabel, Aggregates, Marks(24)),
                Put(MonthMarkLabel, Aggregates, Marks(31)),
                Put(SliceMarkLabel, Aggregates, SliceMarks()),
                Update("UpdateItem payment", table, card, items.RefundedItem)),
            Operation(GetById, Read("GetItem (consistent; the key follows from the UUIDv7 id)", Transactions, ReadUnits(DynamoDbItemSize.Of(card), consistent: true))),
            Operation(ListPage, Read($"Query of {pageSize + 1} items (consistent)", Transactions, ReadUnits((pageSize + 1) * DynamoDbItemSize.Of(card), consistent: true))),
            Operation(HourlyAnalytics,
            [
                Read("Query kept day totals, 2 days (eventually consistent)", Aggregates, ReadUnits(2 * DynamoDbItemSize.Of(KeptDay(card)), consistent: false)),
                Read("Query their marks (consistent)", Aggregates, ReadUnits(2 * DynamoDbItemSize.Of(Marks(24)), consistent: true)),
                .. today,
            ]),
            Operation(CampaignProgress,
            [
                Read("Query kept months, 11 (campaign totals; eventually consistent)", Aggregates, ReadUnits(11 * DynamoDbItemSize.Of(KeptMonth(card)), consistent: false)),
                Read("Query their marks (consistent)", Aggregates, ReadUnits(11 * DynamoDbItemSize.Of(Marks(31)), consistent: true)),
                Read("Query this month's kept days, up to 30 (eventually consistent)", Aggregates, ReadUnits(30 * DynamoDbItemSize.Of(KeptDay(card)), consistent: false)),
                Read("Query their marks (consistent)", Aggregates, ReadUnits(30 * DynamoDbItemSize.Of(Marks(24)), consistent: true)),
                .. today,
            ]),
            Operation(ReplayedCreate,
                Refused("PutItem record", Idempotency, items.CardRecordItem),
                Read("GetItem record (consistent)", Idempotency, ReadUnits(DynamoDbItemSize.Of(items.CardRecordItem), consistent: true)),
                Refused("PutItem payment (completing it)", Transactions, card)),
            Operation(ReplayedRefund,
                Read("GetItem record (consistent)", Idempotency, ReadUnits(DynamoDbItemSize.Of(items.RefundRecordItem), consistent: true)),
                Read("GetItem payment (was it applied?)", Transactions, ReadUnits(DynamoDbItemSize.Of(items.RefundedItem), consistent: true))),
            Operation(RefundLostRace,
                Put("PutItem record", Idempotency, items.RefundRecordItem),
                Refused("UpdateItem payment", Transactions, items.RefundedItem),
                Read("GetItem payment (was it applied?)", Transactions, ReadUnits(DynamoDbItemSize.Of(items.RefundedItem), consistent: true)),
                Delete("DeleteItem record (withdrawn)", Idempotency, items.RefundRecordItem),
                Read("GetItem payment (the retry reads it again)", Transactions, ReadUnits(DynamoDbItemSize.Of(items.RefundedItem), consistent: true))),
            Operation(StaleSettlement,
                Refused("UpdateItem payment", Transactions, items.SettledItem),
                Read("GetItem payment (is it already so?)", Transactions, ReadUnits(DynamoDbItemSize.Of(items.SettledItem), consistent: true))),
        ];
    }

    // ----- the aggregates' items, as PaymentAggregates writes them: one campaign and one currency, every hour with payments -----

    private const string MarkLabel = "UpdateItem the day's mark (the payment's hour has ended; at most: one per hour and 5 s per process)";
    private const string SliceMarkLabel = "UpdateItem the slice's mark (its 5-minute slice has ended; as the day's)";
    private const string MonthMarkLabel = "UpdateItem the month's mark (as the day's)";

    private static readonly DateTimeOffset Day = new(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, AttributeValue> KeptHour(Dictionary<string, AttributeValue> payment) =>
        PaymentAggregates.HourItem(Guid.Empty, Day, TotalsOf(payment, Day), Day, generation: 1);

    private static Dictionary<string, AttributeValue> KeptDay(Dictionary<string, AttributeValue> payment) =>
        PaymentAggregates.DayItem(Guid.Empty, Day, Enumerable.Range(0, 24).Select(h => Day.AddHours(h))
            .Select(h => KeyValuePair.Create(h, (TotalsOf(payment, h), h))).ToList(), generation: 1);

    // A month of 31 days, each with payments.
    private static readonly DateTimeOffset LongMonth = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, AttributeValue> KeptMonth(Dictionary<string, AttributeValue> payment) =>
        PaymentAggregates.MonthItem(Guid.Empty, LongMonth, Enumerable.Range(0, 31).Select(d => LongMonth.AddDays(d))
            .Select(d => KeyValuePair.Create(d, (TotalsOf(payment, d), d))).ToList(), generation: 1);

    // An hour's slices item with 11 slices kept (the most an open hour has closed), each with a payment.
    private static Dictionary<string, AttributeValue> KeptSlices(Dictionary<string, AttributeValue> payment)
    {
        var item = AggregateKeys.KeyOf(Guid.Empty, AggregateKeys.SlicesBucket(Day));
        foreach (var slice in Enumerable.Range(0, 11).Select(i => Day + AggregateKeys.SliceLength * i))
            item[AggregateKeys.SliceAttribute(slice)] = new AttributeValue { M = PaymentAggregates.SliceValue(TotalsOf(payment, Day), Day, generation: 1) };
        return item;
    }

    /// <summary>An hour's slice marks item with every slice marked.</summary>
    private static Dictionary<string, AttributeValue> SliceMarks()
    {
        var item = AggregateKeys.KeyOf(Guid.Empty, AggregateKeys.SliceMarksBucket(Day));
        foreach (var slice in Enumerable.Range(0, 12).Select(i => Day + AggregateKeys.SliceLength * i))
            item[AggregateKeys.SliceMarkAttribute(slice)] = new(PaymentItemKeys.Timestamp(Day));
        return item;
    }

    /// <summary>
    /// The part of a campaign read not closed yet, read live (consistent) from the organization's payments: since its last
    /// kept slice of the open hour, which ended at least <see cref="PaymentAggregates.Settle"/> ago, so on average half a
    /// slice and that.
    /// </summary>
    public static readonly TimeSpan OpenWindow = PaymentAggregates.SettleFor(new DynamoDbOptions().WriteTimeout) + AggregateKeys.SliceLength / 2;

    /// <summary>The read units of that live part for an organization taking <paramref name="transactionsPerSecond"/>: it grows with its rate, not its history.</summary>
    public static double OpenWindowReadUnits(double transactionsPerSecond, int paymentBytes) =>
        Math.Max(1, Math.Ceiling(transactionsPerSecond * OpenWindow.TotalSeconds * paymentBytes / 4096.0));

    /// <summary>The read units one campaign progress request takes from the organization's aggregates partition key.</summary>
    public static double CampaignProgressAggregatesReads(IReadOnlyList<OperationUnits> units) =>
        units.Single(u => u.Operation == CampaignProgress).Reads.GetValueOrDefault(Aggregates);

    /// <summary>A marks item with every entry set: a day's (24 hours) or a month's (31 days).</summary>
    private static Dictionary<string, AttributeValue> Marks(int entries)
    {
        var item = AggregateKeys.KeyOf(Guid.Empty, entries == 24 ? AggregateKeys.MarksBucket(Day) : AggregateKeys.MonthMarksBucket(Day));
        foreach (var i in Enumerable.Range(0, entries))
            item[entries == 24 ? AggregateKeys.MarkAttribute(Day.AddHours(i)) : AggregateKeys.DayMarkAttribute(Day.AddDays(i))] = new(PaymentItemKeys.Timestamp(Day));
        return item;
    }

    private static PaymentTotals TotalsOf(Dictionary<string, AttributeValue> payment, DateTimeOffset hour)
    {
        var totals = new PaymentTotals();
        totals.Add(new Dictionary<string, AttributeValue>(payment) { ["createdAt"] = PaymentItemMapper.Time(hour) });
        return totals;
    }

    /// <summary>The size of an item's entry in an index of <paramref name="table"/>; null when the item is not in it (a sparse index).</summary>
    public static int? IndexEntrySize(CreateTableRequest table, string indexName, IReadOnlyDictionary<string, AttributeValue> item)
    {
        var index = table.GlobalSecondaryIndexes.Single(i => i.IndexName == indexName);
        if (!index.KeySchema.All(k => item.ContainsKey(k.AttributeName))) return null;
        return DynamoDbItemSize.Of(item, IndexEntryAttributes(table, index, item));
    }

    private static IEnumerable<string> IndexEntryAttributes(CreateTableRequest table, GlobalSecondaryIndex index, IReadOnlyDictionary<string, AttributeValue> item)
    {
        var keys = table.KeySchema.Concat(index.KeySchema).Select(k => k.AttributeName);
        return index.Projection.ProjectionType == ProjectionType.ALL ? item.Keys
            : index.Projection.ProjectionType == ProjectionType.INCLUDE ? keys.Concat(index.Projection.NonKeyAttributes)
            : keys;
    }

    // ----- the calls, each as DynamoDB bills it -----

    private sealed record Step(string Label, Dictionary<string, double> Writes, Dictionary<string, double> Reads);

    private static OperationUnits Operation(string name, params Step[] steps)
    {
        Dictionary<string, double> Sum(Func<Step, Dictionary<string, double>> pick) => steps.SelectMany(pick)
            .GroupBy(u => u.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(u => u.Value), StringComparer.Ordinal);
        return new OperationUnits(name, Sum(s => s.Writes), Sum(s => s.Reads), string.Join(" + ", steps.Select(Describe)));
    }

    private static string Describe(Step step)
    {
        static string Units(Dictionary<string, double> units, string kind) =>
            string.Join(", ", units.Select(u => $"{u.Key} {u.Value.ToString("0.###", CultureInfo.InvariantCulture)} {kind}"));
        return $"{step.Label} ({string.Join(", ", new[] { Units(step.Writes, "W"), Units(step.Reads, "R") }.Where(s => s.Length > 0))})";
    }

    /// <summary>A put of a new item into a table without indexes (the idempotency table).</summary>
    private static Step Put(string label, string pool, Dictionary<string, AttributeValue> item) =>
        new(label, new() { [pool] = WriteUnits(DynamoDbItemSize.Of(item)) }, []);

    /// <summary>A put of a new item into the transactions table: the table, and each index the item enters.</summary>
    private static Step Put(string label, CreateTableRequest table, Dictionary<string, AttributeValue> item)
    {
        var writes = new Dictionary<string, double>(StringComparer.Ordinal) { [Transactions] = WriteUnits(DynamoDbItemSize.Of(item)) };
        foreach (var index in table.GlobalSecondaryIndexes)
            if (IndexEntrySize(table, index.IndexName, item) is { } entry) writes[index.IndexName] = WriteUnits(entry);
        return new(label, writes, []);
    }

    /// <summary>An update: the larger image on the table; on each index, what the change does to the item's entry there.</summary>
    private static Step Update(string label, CreateTableRequest table, Dictionary<string, AttributeValue> before, Dictionary<string, AttributeValue> after)
    {
        var writes = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [Transactions] = WriteUnits(Math.Max(DynamoDbItemSize.Of(before), DynamoDbItemSize.Of(after))),
        };
        foreach (var index in table.GlobalSecondaryIndexes)
        {
            var (was, now) = (IndexEntrySize(table, index.IndexName, before), IndexEntrySize(table, index.IndexName, after));
            var keyChanged = index.KeySchema.Any(k => !Same(before.GetValueOrDefault(k.AttributeName), after.GetValueOrDefault(k.AttributeName)));
            var entryChanged = IndexEntryAttributes(table, index, before).Concat(IndexEntryAttributes(table, index, after)).Distinct()
                .Any(a => !Same(before.GetValueOrDefault(a), after.GetValueOrDefault(a)));
            var units = (was, now) switch
            {
                (null, null) => 0,
                (null, { } put) => WriteUnits(put),
                ({ } delete, null) => WriteUnits(delete),
                ({ } delete, { } put) when keyChanged => WriteUnits(delete) + WriteUnits(put),
                (_, { } put) => entryChanged ? WriteUnits(put) : 0,
            };
            if (units > 0) writes[index.IndexName] = units;
        }
        return new(label, writes, []);
    }

    /// <summary>A write refused by its condition: the existing item's units, on the table only.</summary>
    private static Step Refused(string label, string pool, Dictionary<string, AttributeValue> existing) =>
        new(label + " refused", new() { [pool] = WriteUnits(DynamoDbItemSize.Of(existing)) }, []);

    /// <summary>A delete of an item from a table without indexes.</summary>
    private static Step Delete(string label, string pool, Dictionary<string, AttributeValue> existing) =>
        new(label, new() { [pool] = WriteUnits(DynamoDbItemSize.Of(existing)) }, []);

    private static Step Read(string label, string pool, double units) => new(label, [], new() { [pool] = units });

    // One item's share of a query page: pages round the sum of their items, not each item.
    private static double Shared(int bytes, bool consistent) => Math.Round(bytes / (double)DynamoDbItemSize.ReadUnitBytes * (consistent ? 1 : 0.5), 4);

    private static bool Same(AttributeValue? a, AttributeValue? b) =>
        a is null || b is null ? a is null && b is null
            : a.S == b.S && a.N == b.N && a.BOOL == b.BOOL && (a.SS ?? []).SequenceEqual(b.SS ?? []);
}
