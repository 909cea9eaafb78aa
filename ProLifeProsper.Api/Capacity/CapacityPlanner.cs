using ProLifeProsper.Api.Storage.DynamoDb;

namespace ProLifeProsper.Api.Capacity;

/// <summary>The whole plan for one traffic profile.</summary>
public sealed record CapacityPlan(
    TrafficProfile Profile, CapacityUnits.ItemSizes ItemSizes, IReadOnlyList<OperationUnits> UnitsPerOperation,
    CapacityUnits.ItemSizes WorstCaseItemSizes, IReadOnlyList<OperationUnits> WorstCaseUnitsPerOperation,
    CostEstimate Cost, PartitionHeat PartitionHeat, CampaignViewsLoad CampaignViews, string PricesAsOf, string PricesSource,
    DynamoDbBillingMode BillingMode, IReadOnlyDictionary<string, DynamoDbProvisionedThroughput> ProvisionedThroughput,
    IReadOnlyDictionary<string, DynamoDbWarmThroughput> WarmThroughput)
{
    /// <summary>The <c>DynamoDb</c> configuration section this plan calls for (billing mode, index shards, units and warm throughput per table and index), to paste into appsettings.json.</summary>
    public string RecommendedConfiguration => RecommendedSettings.Json(BillingMode, PartitionHeat.RecommendedWriteShards, ProvisionedThroughput, WarmThroughput);
}

/// <summary>Capacity and cost for a traffic profile, from what the code writes: units, prices, partition heat.</summary>
public static class CapacityPlanner
{
    public static CapacityPlan Plan(TrafficProfile profile, CapacityPrices? prices = null, CancellationToken cancellationToken = default)
    {
        var errors = profile.Validate().ToList();
        if (errors.Count > 0) throw Domain.Common.DomainErrors.Validation("profile", string.Join(" ", errors));
        prices ??= new CapacityPrices();
        var items = CapacityItems.Build(CapacityItems.RepresentativeKey(profile.IdempotencyKeyLength), profile.WriteShards, profile.ExtraBytesPerPayment);
        var sizes = items.Sizes(CapacityUnits.TransactionsTable);
        var units = CapacityUnits.PerOperation(items);
        // The same payment with the longest keys a client may send, of characters JSON escapes: what a hostile client costs.
        var worst = CapacityItems.Build(CapacityItems.WorstCaseKey, profile.WriteShards, profile.ExtraBytesPerPayment);
        var cost = CostModel.Estimate(profile, units, sizes, prices);
        var heat = PartitionHeatSimulation.Run(profile, sizes, cancellationToken);
        return new CapacityPlan(profile, sizes, units, worst.Sizes(CapacityUnits.TransactionsTable), CapacityUnits.PerOperation(worst),
            cost, heat, CampaignViewsLoad.Of(profile, heat, units, sizes), CapacityPrices.AsOf, CapacityPrices.Source,
            RecommendedSettings.BillingMode(cost), RecommendedSettings.ProvisionedThroughput(cost), RecommendedSettings.WarmThroughput(cost));
    }
}
