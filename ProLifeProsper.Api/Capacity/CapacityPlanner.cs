namespace ProLifeProsper.Api.Capacity;

/// <summary>The whole plan for one traffic profile.</summary>
public sealed record CapacityPlan(
    TrafficProfile Profile, CapacityUnits.ItemSizes ItemSizes, IReadOnlyList<OperationUnits> UnitsPerOperation,
    CostEstimate Cost, PartitionHeat PartitionHeat, string PricesAsOf, string PricesSource,
    IReadOnlyDictionary<string, Storage.DynamoDb.DynamoDbWarmThroughput> WarmThroughput)
{
    /// <summary>The <c>DynamoDb</c> configuration section this plan calls for (index shards, warm throughput), to paste into appsettings.json.</summary>
    public string RecommendedConfiguration => RecommendedSettings.Json(PartitionHeat.RecommendedWriteShards, WarmThroughput);
}

/// <summary>Capacity and cost for a traffic profile, from what the code writes: units, prices, partition heat.</summary>
public static class CapacityPlanner
{
    public static CapacityPlan Plan(TrafficProfile profile, CapacityPrices? prices = null)
    {
        var errors = profile.Validate().ToList();
        if (errors.Count > 0) throw Domain.Common.DomainErrors.Validation("profile", string.Join(" ", errors));
        prices ??= new CapacityPrices();
        var sizes = CapacityUnits.Measure(profile.WriteShards, profile.ExtraBytesPerPayment);
        var units = CapacityUnits.PerOperation(sizes);
        return new CapacityPlan(profile, sizes, units, CostModel.Estimate(profile, units, sizes, prices),
            PartitionHeatSimulation.Run(profile, sizes), CapacityPrices.AsOf, CapacityPrices.Source, RecommendedSettings.WarmThroughput(profile, sizes));
    }
}
