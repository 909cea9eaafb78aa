using System.Text.Json;
using ProLifeProsper.Api.Storage.DynamoDb;

namespace ProLifeProsper.Api.Capacity;

/// <summary>
/// The plan as configuration to paste into appsettings.json: the index shard count the heat simulation calls for, and the
/// warm throughput of each table and index for the profile's peak (a fresh on-demand table throttles above its warm
/// throughput until DynamoDB adapts). Values are rounded up to thousands and never below DynamoDB's on-demand defaults.
/// </summary>
public static class RecommendedSettings
{
    private const long DefaultWarmReads = 12_000, DefaultWarmWrites = 4_000;

    public static IReadOnlyDictionary<string, DynamoDbWarmThroughput> WarmThroughput(TrafficProfile profile, CapacityUnits.ItemSizes sizes)
    {
        var peak = profile.PeakTransactionsPerSecond + profile.SpikeTransactionsPerSecond;
        double W(int bytes) => CapacityUnits.WriteUnits(bytes);
        var changes = 1 + profile.PendingShare + profile.RefundShare; // a create, a settlement if pending, a refund if refunded
        var tableReads = peak * (profile.ReadsPerPayment * CapacityUnits.ReadUnits(sizes.Payment, consistent: true)
                                 + profile.ListPagesPerPayment * CapacityUnits.ReadUnits(50 * sizes.Payment, consistent: true));
        return new Dictionary<string, DynamoDbWarmThroughput>(StringComparer.Ordinal)
        {
            ["transactions"] = Warm(tableReads, peak * W(sizes.Payment) * changes),
            ["idempotency"] = Warm(peak * profile.RefundShare, peak * W(sizes.IdempotencyRecord) * (1 + profile.RefundShare)),
            [PaymentItemKeys.TransactionIdIndex] = Warm(0, peak * W(sizes.TransactionIdIndexEntry)),
            [PaymentItemKeys.StatusTimestampIndex] = Warm(0, peak * profile.PendingShare * W(sizes.StatusIndexEntry) * 2), // in, and out when settled
            [PaymentItemKeys.DateHourIndex] = Warm(0, peak * W(sizes.DateHourIndexEntry) * changes),
        };
    }

    /// <summary>The <c>DynamoDb</c> section for a plan, as JSON.</summary>
    public static string Json(int writeShards, IReadOnlyDictionary<string, DynamoDbWarmThroughput> warm) =>
        JsonSerializer.Serialize(new { DynamoDb = new { WriteShards = writeShards, WarmThroughput = warm } }, Indented);

    private static DynamoDbWarmThroughput Warm(double reads, double writes) => new()
    {
        ReadUnitsPerSecond = Math.Max(DefaultWarmReads, RoundUp(reads)),
        WriteUnitsPerSecond = Math.Max(DefaultWarmWrites, RoundUp(writes)),
    };

    private static long RoundUp(double units) => (long)Math.Ceiling(units / 1_000) * 1_000;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
}
