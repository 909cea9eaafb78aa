namespace ProLifeProsper.Api.Capacity;

/// <summary>The whole plan for one traffic profile.</summary>
public sealed record CapacityPlan(
    TrafficProfile Profile, CapacityUnits.ItemSizes ItemSizes, IReadOnlyList<OperationUnits> UnitsPerOperation,
    CostEstimate Cost, PartitionHeat PartitionHeat, string PricesAsOf, string PricesSource);

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
            PartitionHeatSimulation.Run(profile, sizes), CapacityPrices.AsOf, CapacityPrices.Source);
    }
}
