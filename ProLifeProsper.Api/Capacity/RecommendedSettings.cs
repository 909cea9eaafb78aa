using System.Text.Json;
using System.Text.Json.Serialization;
using ProLifeProsper.Api.Storage.DynamoDb;

namespace ProLifeProsper.Api.Capacity;

/// <summary>
/// The plan as configuration to paste into appsettings.json: the billing mode of the cheapest mode that serves the peak, the
/// index shard count the heat simulation calls for, the provisioned units of each table and index (used in provisioned mode)
/// and their warm throughput for the peak (a fresh on-demand table throttles above its warm throughput until DynamoDB
/// adapts). Warm throughput is rounded up to thousands and never below DynamoDB's on-demand defaults.
/// </summary>
public static class RecommendedSettings
{
    private const long DefaultWarmReads = 12_000, DefaultWarmWrites = 4_000;

    public static DynamoDbBillingMode BillingMode(CostEstimate cost) =>
        cost.Recommended == CostModel.OnDemand ? DynamoDbBillingMode.OnDemand : DynamoDbBillingMode.Provisioned;

    public static IReadOnlyDictionary<string, DynamoDbProvisionedThroughput> ProvisionedThroughput(CostEstimate cost) =>
        cost.Pools.ToDictionary(p => p.Pool, p => new DynamoDbProvisionedThroughput
        {
            ReadCapacityUnits = p.ProvisionedReadCapacityUnits,
            WriteCapacityUnits = p.ProvisionedWriteCapacityUnits,
        }, StringComparer.Ordinal);

    public static IReadOnlyDictionary<string, DynamoDbWarmThroughput> WarmThroughput(CostEstimate cost) =>
        cost.Pools.ToDictionary(p => p.Pool, p => new DynamoDbWarmThroughput
        {
            ReadUnitsPerSecond = Math.Max(DefaultWarmReads, RoundUp(p.PeakReadUnitsPerSecond)),
            WriteUnitsPerSecond = Math.Max(DefaultWarmWrites, RoundUp(p.PeakWriteUnitsPerSecond)),
        }, StringComparer.Ordinal);

    /// <summary>The <c>DynamoDb</c> section for a plan, as JSON.</summary>
    public static string Json(DynamoDbBillingMode billingMode, int writeShards, IReadOnlyDictionary<string, DynamoDbProvisionedThroughput> provisioned,
        IReadOnlyDictionary<string, DynamoDbWarmThroughput> warm) =>
        JsonSerializer.Serialize(new
        {
            DynamoDb = new { BillingMode = billingMode, WriteShards = writeShards, ProvisionedThroughput = provisioned, WarmThroughput = warm },
        }, Indented);

    private static long RoundUp(double units) => (long)Math.Ceiling(units / 1_000) * 1_000;

    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Converters = { new JsonStringEnumConverter() },
    };
}
