using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Capacity;

/// <summary>Capacity units one operation costs on DynamoDB.</summary>
public sealed record OperationUnits(string Operation, double WriteUnits, double ReadUnits, string HowComputed);

/// <summary>
/// Units per operation, computed from the items this code really writes (<see cref="PaymentItemMapper"/>,
/// the idempotency record) and the indexes it really defines (<see cref="DynamoDbTables"/>): 1 write unit per KB
/// written to the table and to each index the write touches (2 for an index whose key changes: delete + put),
/// 1 read unit per 4 KB read strongly consistent (half for eventually consistent). dynalite reports 1 unit per
/// write and none for indexes, so these figures are computed, not read back from it.
/// </summary>
public static class CapacityUnits
{
    // The operations priced, by name (the cost model looks them up by these).
    public const string CreateCard = "create payment (card)";
    public const string CreatePending = "create payment (bank transfer, pending)";
    public const string Settle = "settle (pending → succeeded)";
    public const string Refund = "refund";
    public const string GetById = "get payment by id";
    public const string ListPage = "list one page";
    public const string HourlyAnalytics = "hourly analytics, 24 h";

    public const int WriteUnitBytes = 1_024;
    public const int ReadUnitBytes = 4_096;

    public static double WriteUnits(int bytes) => Math.Ceiling(Math.Max(1, bytes) / (double)WriteUnitBytes);

    public static double ReadUnits(int bytes, bool consistent) => Math.Ceiling(Math.Max(1, bytes) / (double)ReadUnitBytes) * (consistent ? 1 : 0.5);

    /// <summary>Item sizes of a representative payment, its idempotency record and its index entries.</summary>
    public sealed record ItemSizes(int Payment, int IdempotencyRecord, int TransactionIdIndexEntry, int StatusIndexEntry, int DateHourIndexEntry);

    public static ItemSizes Measure(int shards, int extraPaymentBytes = 0)
    {
        var payment = Sample(PaymentStatus.Pending);
        var item = PaymentItemMapper.ToItem(payment, shards, organizationShards: 1);
        var keys = new[] { PaymentItemKeys.Partition, PaymentItemKeys.SortKey };
        var idempotencyKey = Guid.NewGuid().ToString("D");
        var record = new Dictionary<string, AttributeValue>
        {
            [DynamoDbTables.IdempotencyPartition] = new(PaymentItemKeys.IdempotencyPartitionOf(payment.OrganizationId, idempotencyKey)),
            [DynamoDbTables.IdempotencyKey] = new(idempotencyKey),
            [DynamoDbTables.IdempotencyOrganizationId] = new(payment.OrganizationId.ToString("D")),
            ["fingerprint"] = new(new string('f', 64)),
            ["resourceId"] = new(payment.TransactionId.ToString("D")),
            ["responseJson"] = new(PaymentSnapshotJson.Serialize(payment)),
            ["createdAt"] = PaymentItemMapper.Time(payment.CreatedAt),
            ["kind"] = new("Create"),
            ["appliesResponse"] = new() { BOOL = true },
        };
        return new ItemSizes(
            DynamoDbItemSize.Of(item) + extraPaymentBytes,
            DynamoDbItemSize.Of(record) + extraPaymentBytes,
            DynamoDbItemSize.Of(item, [PaymentItemKeys.TransactionId, .. keys]),
            DynamoDbItemSize.Of(item) + extraPaymentBytes, // ALL projection
            DynamoDbItemSize.Of(item, [PaymentItemKeys.DateHourShard, PaymentItemKeys.OrganizationId, .. keys, .. DynamoDbTables.AnalyticsAttributes]));
    }

    /// <summary>The units of each operation the API performs, for payments of the measured sizes.</summary>
    public static IReadOnlyList<OperationUnits> PerOperation(ItemSizes s, int pageSize = PaymentListQuery.DefaultLimit)
    {
        var table = WriteUnits(s.Payment);
        var idIndex = WriteUnits(s.TransactionIdIndexEntry);
        var statusIndex = WriteUnits(s.StatusIndexEntry);
        var hourIndex = WriteUnits(s.DateHourIndexEntry);
        var record = WriteUnits(s.IdempotencyRecord);
        return
        [
            new(CreateCard, record + table + idIndex + hourIndex, 1,
                $"record {record} + table {table} + transactionId-index {idIndex} + dateHour-index {hourIndex}; the sparse pending index is not written; 1 RCU: the idempotency check"),
            new(CreatePending, record + table + idIndex + hourIndex + statusIndex, 1,
                $"as a card payment + status-timestamp-index {statusIndex}"),
            new(Settle, table + statusIndex + hourIndex, ReadUnits(s.Payment, true),
                $"table {table} + leaves the pending index {statusIndex} (delete) + dateHour-index {hourIndex} (projected status changes)"),
            new(Refund, record + table + hourIndex, ReadUnits(s.Payment, true) + 1,
                $"record {record} + table {table} + dateHour-index {hourIndex} (projected amounts change); reads: the payment and the key"),
            new(GetById, 0, ReadUnits(s.Payment, true), "one strongly consistent GetItem (the key follows from the UUIDv7 id)"),
            new(ListPage, 0, ReadUnits(s.Payment * (pageSize + 1), true), $"{pageSize} payments: one strongly consistent Query of {pageSize + 1} items"),
            new(HourlyAnalytics, 0, 24 * 8 * ReadUnits(s.DateHourIndexEntry, false),
                "24 hours × 8 shards eventually consistent index queries (minimum; grows with the organization's payments)"),
        ];
    }

    private static PaymentTransaction Sample(PaymentStatus status)
    {
        var now = DateTimeOffset.UtcNow;
        var at = Domain.Common.UtcClock.TruncateToMilliseconds(now);
        return new PaymentTransaction
        {
            TransactionId = Guid.CreateVersion7(at), OrganizationId = Guid.CreateVersion7(), CampaignId = Guid.CreateVersion7(), DonorId = Guid.CreateVersion7(),
            AmountMinor = 2_500, Currency = "USD", Status = status, PaymentMethodType = PaymentMethodType.BankTransfer, PaymentMethodToken = "tok_bankTransfer",
            IdempotencyKey = Guid.NewGuid().ToString("D"), CreatedAt = at, UpdatedAt = Domain.Common.UtcClock.Now(TimeProvider.System),
        };
    }
}
