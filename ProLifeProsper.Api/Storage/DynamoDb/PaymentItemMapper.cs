using System.Globalization;
using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>Payment ↔ DynamoDB item. Numbers are DynamoDB numbers (exact decimal strings), never floating point.</summary>
public static class PaymentItemMapper
{
    public const string AppliedKeys = "appliedIdempotencyKeys";

    /// <param name="shards">The index shard count (<see cref="IndexShards"/>).</param>
    /// <param name="organizationShards">The organization's shard count when the payment was created (<see cref="OrganizationShardHistory"/>).</param>
    public static Dictionary<string, AttributeValue> ToItem(PaymentTransaction p, int shards, int organizationShards)
    {
        var item = new Dictionary<string, AttributeValue>(20)
        {
            [PaymentItemKeys.Partition] = new(PaymentItemKeys.PartitionOf(p.OrganizationId, p.TransactionId, organizationShards)),
            [PaymentItemKeys.OrganizationId] = S(p.OrganizationId),
            [PaymentItemKeys.SortKey] = new(PaymentItemKeys.SortKeyOf(p.CreatedAt, p.TransactionId)),
            [PaymentItemKeys.TransactionId] = S(p.TransactionId),
            ["campaignId"] = S(p.CampaignId),
            ["donorId"] = S(p.DonorId),
            ["amountMinor"] = N(p.AmountMinor),
            ["currency"] = new(p.Currency),
            ["status"] = new(p.Status.ToWire()),
            ["paymentMethodType"] = new(p.PaymentMethodType.ToWire()),
            ["paymentMethodToken"] = new(p.PaymentMethodToken),
            ["idempotencyKey"] = new(p.IdempotencyKey),
            ["refundedAmountMinor"] = N(p.RefundedAmountMinor),
            ["createdAt"] = Time(p.CreatedAt),
            ["updatedAt"] = Time(p.UpdatedAt),
            ["version"] = N(p.Version),
        };
        if (p.FailureCode is not null) item["failureCode"] = new(p.FailureCode);
        if (p.Status == PaymentStatus.Pending) item[PaymentItemKeys.StatusShard] = new(PendingShardOf(p, shards));
        return item;
    }

    public static PaymentTransaction FromItem(IReadOnlyDictionary<string, AttributeValue> item) => new()
    {
        TransactionId = Guid.Parse(item[PaymentItemKeys.TransactionId].S),
        OrganizationId = Guid.Parse(item[PaymentItemKeys.OrganizationId].S),
        CampaignId = Guid.Parse(item["campaignId"].S),
        DonorId = Guid.Parse(item["donorId"].S),
        AmountMinor = long.Parse(item["amountMinor"].N, CultureInfo.InvariantCulture),
        Currency = item["currency"].S,
        Status = PaymentStatusNames.Parse(item["status"].S),
        PaymentMethodType = PaymentMethodTypeNames.Parse(item["paymentMethodType"].S),
        PaymentMethodToken = item["paymentMethodToken"].S,
        IdempotencyKey = item["idempotencyKey"].S,
        FailureCode = item.TryGetValue("failureCode", out var failure) ? failure.S : null,
        RefundedAmountMinor = long.Parse(item["refundedAmountMinor"].N, CultureInfo.InvariantCulture),
        CreatedAt = ParseTime(item["createdAt"].S),
        UpdatedAt = ParseTime(item["updatedAt"].S),
        Version = int.Parse(item["version"].N, CultureInfo.InvariantCulture),
    };

    public static Dictionary<string, AttributeValue> KeyOf(PaymentTransaction p, int organizationShards) =>
        KeyOf(PaymentItemKeys.PartitionOf(p.OrganizationId, p.TransactionId, organizationShards), PaymentItemKeys.SortKeyOf(p.CreatedAt, p.TransactionId));

    public static Dictionary<string, AttributeValue> KeyOf(string partition, string sortKey) => new()
    {
        [PaymentItemKeys.Partition] = new(partition),
        [PaymentItemKeys.SortKey] = new(sortKey),
    };

    /// <summary>The key of an item (from a query or an index holding the table's keys).</summary>
    public static Dictionary<string, AttributeValue> KeyOf(IReadOnlyDictionary<string, AttributeValue> item) => new()
    {
        [PaymentItemKeys.Partition] = item[PaymentItemKeys.Partition],
        [PaymentItemKeys.SortKey] = item[PaymentItemKeys.SortKey],
    };

    public static string PendingShardOf(PaymentTransaction p, int shards) => PaymentItemKeys.PendingShard(PaymentItemKeys.ShardOf(p.TransactionId, shards));

    public static AttributeValue S(Guid value) => new(value.ToString("D"));

    public static AttributeValue N(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    // Round-trip format: 100 ns precision, always UTC.
    public static AttributeValue Time(DateTimeOffset value) => new(value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));

    public static DateTimeOffset ParseTime(string value) =>
        DateTimeOffset.ParseExact(value, "O", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
}
