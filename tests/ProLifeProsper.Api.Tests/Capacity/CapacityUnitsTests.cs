using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Api.Capacity;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Tests.Capacity;

/// <summary>
/// One test per operation: the items it writes, built here with the store's own mappers from the model's sample payments, and
/// the units DynamoDB bills for them, against the model's. For keys of 1, 36 (a UUID) and 255 characters, and 255 characters
/// JSON escapes, so the model follows the items whatever their size.
/// </summary>
public sealed class CapacityUnitsTests
{
    private const int Shards = 8;
    private const string Transactions = "transactions", Idempotency = "idempotency", Aggregates = "aggregates";
    private const string IdIndex = PaymentItemKeys.TransactionIdIndex, PendingIndex = PaymentItemKeys.StatusTimestampIndex;

    public static TheoryData<string> Keys => new()
    {
        CapacityItems.RepresentativeKey(1),
        CapacityItems.RepresentativeKey(36),
        CapacityItems.RepresentativeKey(IdempotencyRecord.MaxKeyLength),
        CapacityItems.WorstCaseKey,
    };

    private static (CapacityItems Items, Func<string, OperationUnits> Operation) Model(string key)
    {
        var items = CapacityItems.Build(key, Shards);
        var units = CapacityUnits.PerOperation(items);
        return (items, name => units.Single(u => u.Operation == name));
    }

    // DynamoDB's units: 1 per KB written, 1 per 4 KB read strongly consistent (half eventually), at least one block.
    private static double W(IReadOnlyDictionary<string, AttributeValue> item) => Math.Ceiling(DynamoDbItemSize.Of(item) / 1024.0);

    private static double R(int bytes) => Math.Ceiling(Math.Max(1, bytes) / 4096.0);

    // Index entries: the table's keys, the index's keys and what the index projects (DynamoDbTables).
    private static readonly string[] TableKeys = [PaymentItemKeys.Partition, PaymentItemKeys.SortKey];

    private static Dictionary<string, AttributeValue> IdEntry(Dictionary<string, AttributeValue> item) => Project(item, [.. TableKeys, PaymentItemKeys.TransactionId]);

    private static Dictionary<string, AttributeValue> Project(Dictionary<string, AttributeValue> item, string[] attributes) =>
        item.Where(a => attributes.Contains(a.Key)).ToDictionary();

    private static Dictionary<string, AttributeValue> Payment(PaymentTransaction payment) => PaymentItemMapper.ToItem(payment, Shards, organizationShards: 1);

    private static Dictionary<string, AttributeValue> Record(IdempotencyRecord record, string kind, PaymentTransaction applies) =>
        IdempotencyRecordItem.ToItem(record, kind, applies);

    [Theory, MemberData(nameof(Keys))]
    public void A_card_payment_is_created_by_a_record_put_and_a_payment_put_into_the_table_and_the_id_index_only(string key)
    {
        var (m, operation) = Model(key);
        var record = Record(m.CardRecord, "Create", m.Card);
        var payment = Payment(m.Card);
        Assert.False(payment.ContainsKey(PaymentItemKeys.StatusShard)); // not in the sparse pending index
        Assert.False(payment.ContainsKey(PaymentItemKeys.LegacyDateHourShard)); // nor in the retired hourly index

        var units = operation(CapacityUnits.CreateCard);
        Assert.Equal(new Dictionary<string, double> { [Idempotency] = W(record), [Transactions] = W(payment), [IdIndex] = W(IdEntry(payment)) },
            units.Writes);
        Assert.Equal(0, units.ReadUnits); // no read before the claim
    }

    [Theory, MemberData(nameof(Keys))]
    public void A_bank_transfer_is_created_into_the_pending_index_too_with_its_whole_item(string key)
    {
        var (m, operation) = Model(key);
        var record = Record(m.PendingRecord, "Create", m.Pending);
        var payment = Payment(m.Pending);

        var units = operation(CapacityUnits.CreatePending);
        Assert.Equal(W(record) + W(payment) + W(IdEntry(payment)) + W(payment) /* ALL projection */, units.WriteUnits);
        Assert.Equal(W(payment), units.Writes[PendingIndex]);
        Assert.Equal(0, units.ReadUnits);
    }

    [Theory, MemberData(nameof(Keys))]
    public void A_settlement_reads_the_pending_entry_and_the_payment_and_updates_the_table_leaving_the_pending_index(string key)
    {
        var (m, operation) = Model(key);
        var before = Payment(m.Pending);
        var after = Payment(m.Settled);

        var units = operation(CapacityUnits.Settle);
        Assert.Equal(new Dictionary<string, double>
        {
            [Transactions] = Math.Max(W(before), W(after)),
            [PendingIndex] = W(before), // the entry is deleted
            [Aggregates] = 3, // the marks of its closed hour in its day and its month, and of its slice until the hour closes (small items), at most
        }, units.Writes);
        // Its share of the pending query (eventually consistent, a page rounds its sum) and the consistent re-read of the table.
        Assert.Equal(DynamoDbItemSize.Of(before) / 4096.0 * 0.5, units.Reads[PendingIndex], precision: 4);
        Assert.Equal(R(DynamoDbItemSize.Of(before)), units.Reads[Transactions]);
    }

    [Theory, MemberData(nameof(Keys))]
    public void A_refund_reads_its_key_and_the_payment_puts_its_record_and_updates_the_payment_with_its_key(string key)
    {
        var (m, operation) = Model(key);
        var record = Record(m.RefundRecord, "Update", m.Refunded);
        var before = Payment(m.Card);
        var after = Payment(m.Refunded);
        after[PaymentItemMapper.AppliedKeys] = new AttributeValue { SS = [m.RefundRecord.Key] };
        // The record keeps the receipt (with the refunded payment) and the refunded payment it applies: the create's key twice, its own once.
        Assert.True(DynamoDbItemSize.Of(record) > 2 * PaymentSnapshotJson.Serialize(m.Refunded).Length);

        var units = operation(CapacityUnits.Refund);
        Assert.Equal(new Dictionary<string, double>
        {
            [Idempotency] = W(record),
            [Transactions] = Math.Max(W(before), W(after)),
            [Aggregates] = 3, // the marks of its closed hour in its day and its month, and of its slice, at most
        }, units.Writes);
        Assert.Equal(new Dictionary<string, double> { [Idempotency] = 1 /* the key, not found */, [Transactions] = R(DynamoDbItemSize.Of(before)) }, units.Reads);
    }

    [Theory, MemberData(nameof(Keys))]
    public void A_replayed_create_is_billed_for_two_refused_puts_and_reads_the_record(string key)
    {
        var (m, operation) = Model(key);
        var record = Record(m.CardRecord, "Create", m.Card);
        var payment = Payment(m.Card);

        var units = operation(CapacityUnits.ReplayedCreate);
        // A refused write costs the existing item's units and writes no index.
        Assert.Equal(new Dictionary<string, double> { [Idempotency] = W(record), [Transactions] = W(payment) }, units.Writes);
        Assert.Equal(new Dictionary<string, double> { [Idempotency] = R(DynamoDbItemSize.Of(record)) }, units.Reads);
    }

    [Theory, MemberData(nameof(Keys))]
    public void A_replayed_refund_reads_its_record_and_the_payment_and_writes_nothing(string key)
    {
        var (m, operation) = Model(key);
        var record = Record(m.RefundRecord, "Update", m.Refunded);
        var payment = Payment(m.Refunded);
        payment[PaymentItemMapper.AppliedKeys] = new AttributeValue { SS = [m.RefundRecord.Key] };

        var units = operation(CapacityUnits.ReplayedRefund);
        Assert.Empty(units.Writes);
        Assert.Equal(new Dictionary<string, double> { [Idempotency] = R(DynamoDbItemSize.Of(record)), [Transactions] = R(DynamoDbItemSize.Of(payment)) }, units.Reads);
    }

    [Theory, MemberData(nameof(Keys))]
    public void A_refund_that_lost_its_race_pays_its_record_twice_and_a_refused_update(string key)
    {
        var (m, operation) = Model(key);
        var record = Record(m.RefundRecord, "Update", m.Refunded);
        var payment = Payment(m.Refunded);
        payment[PaymentItemMapper.AppliedKeys] = new AttributeValue { SS = [m.RefundRecord.Key] };

        var units = operation(CapacityUnits.RefundLostRace);
        Assert.Equal(new Dictionary<string, double> { [Idempotency] = 2 * W(record) /* put, then withdrawn */, [Transactions] = W(payment) }, units.Writes);
        Assert.Equal(new Dictionary<string, double> { [Transactions] = 2 * R(DynamoDbItemSize.Of(payment)) }, units.Reads);
    }

    [Theory, MemberData(nameof(Keys))]
    public void A_stale_settlement_pays_a_refused_update_and_a_read(string key)
    {
        var (m, operation) = Model(key);
        var payment = Payment(m.Settled);

        var units = operation(CapacityUnits.StaleSettlement);
        Assert.Equal(new Dictionary<string, double> { [Transactions] = W(payment) }, units.Writes);
        Assert.Equal(new Dictionary<string, double> { [Transactions] = R(DynamoDbItemSize.Of(payment)) }, units.Reads);
    }

    [Theory, MemberData(nameof(Keys))]
    public void Reads_cost_the_payment_a_page_of_payments_and_the_hourly_index_entries(string key)
    {
        var (m, operation) = Model(key);
        var payment = Payment(m.Card);

        Assert.Equal(R(DynamoDbItemSize.Of(payment)), operation(CapacityUnits.GetById).Reads[Transactions]);
        Assert.Equal(R(51 * DynamoDbItemSize.Of(payment)), operation(CapacityUnits.ListPage).Reads[Transactions]); // the page and one more
        // 24 hours from kept totals: two days' totals and their marks, today's kept hours; the hourly index is no longer read.
        var analytics = operation(CapacityUnits.HourlyAnalytics);
        Assert.DoesNotContain(analytics.Reads.Keys, pool => pool.Contains("dateHour", StringComparison.Ordinal));
        Assert.InRange(analytics.Reads[Aggregates], 3, 6); // a few KB: two days' totals and marks, 23 hours, the open hour's slices and their marks (no months: they hold campaign totals only)
        Assert.Equal(1, analytics.Reads[Transactions]); // the open window's payments: one consistent query at least
    }

    [Theory, MemberData(nameof(Keys))]
    public void Campaign_progress_reads_kept_totals_and_marks_not_the_history(string key)
    {
        var (_, operation) = Model(key);
        var progress = operation(CapacityUnits.CampaignProgress);
        Assert.Equal(0, progress.WriteUnits);
        // Eleven kept months and their marks, this month's days and marks, today's hours: small items on one key.
        Assert.InRange(progress.Reads[Aggregates], 5, 40);
        Assert.Equal(1, progress.Reads[Transactions]); // the open window's payments: one consistent query at least
    }

    [Fact]
    public void With_UUID_keys_the_items_of_a_payment_fit_the_design_budget()
    {
        // The design's budget (docs/dynamodb.md): a payment and a create's record in one write unit each, a refund's record in two.
        // A change that grows one past it fails here, not only in the bill.
        var (m, _) = Model(Guid.NewGuid().ToString("D"));
        Assert.All(new[] { m.CardItem, m.PendingItem, m.SettledItem, m.RefundedItem, m.CardRecordItem, m.PendingRecordItem }, item => Assert.Equal(1, W(item)));
        Assert.Equal(2, W(m.RefundRecordItem));
    }

    [Fact]
    public void Keys_JSON_escapes_cost_six_bytes_each_in_the_records()
    {
        var plain = Model(CapacityItems.RepresentativeKey(IdempotencyRecord.MaxKeyLength)).Items;
        var escaped = Model(CapacityItems.WorstCaseKey).Items;
        // The create's record holds the key as its sort key and in the payment it keeps, where JSON escapes it (+ becomes \u002B).
        Assert.Equal(5 * IdempotencyRecord.MaxKeyLength,
            DynamoDbItemSize.Of(escaped.CardRecordItem, ["responseJson"]) - DynamoDbItemSize.Of(plain.CardRecordItem, ["responseJson"]));
        Assert.True(W(escaped.CardRecordItem) > W(plain.CardRecordItem));
    }
}
