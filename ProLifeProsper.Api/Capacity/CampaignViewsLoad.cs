namespace ProLifeProsper.Api.Capacity;

/// <summary>
/// The largest organization's campaign progress reads at its peak. Every one reads the organization's kept totals from one
/// aggregates partition key, and its payments of the open window (since its last kept slice) live from its own partition
/// keys of the transactions table: the first caps how many views a key serves, the second grows with the organization's
/// rate, so a busy organization's progress page needs a cache in front of the API. Every view is counted as a read (the
/// case of views that do not overlap); overlapping ones share reads (<see cref="Storage.ReadCoalescer{TKey, TValue}"/>).
/// </summary>
public sealed record CampaignViewsLoad(
    double ViewsPerSecond, double ReadUnitsPerView, double ReadUnitsPerSecond, double LimitReadUnitsPerSecond,
    double OpenWindowReadUnitsPerView, double OpenWindowReadUnitsPerSecond, double OpenWindowLimitReadUnitsPerSecond,
    bool OverLimit, double MostViewsPerSecond, string Advice)
{
    public static CampaignViewsLoad Of(TrafficProfile profile, PartitionHeat heat, IReadOnlyList<OperationUnits> units, CapacityUnits.ItemSizes sizes)
    {
        var rate = heat.LargestOrganizationTransactionsPerSecond;
        var views = rate * profile.CampaignViewsPerPayment;
        var perView = CapacityUnits.CampaignProgressAggregatesReads(units);
        var openPerView = CapacityUnits.OpenWindowReadUnits(rate, sizes.Payment);
        var limit = PartitionHeatSimulation.PartitionReadLimit;
        // Its payments are spread over the partition keys its split gives it (one when not split).
        var openLimit = limit * (heat.OrganizationSplits.FirstOrDefault(s => s.Rank == 1)?.Shards ?? 1);
        var most = Math.Floor(Math.Min(limit / perView, openLimit / openPerView));
        var over = views * perView > limit || views * openPerView > openLimit;
        return new CampaignViewsLoad(Math.Round(views), perView, Math.Round(views * perView), limit,
            openPerView, Math.Round(views * openPerView), openLimit, over, most,
            (over ? "Over its partitions' reads: serve campaign progress from a cache in front of the API (a CDN, or a cache of a few seconds); " : "Fine: ")
            + (most >= 1
                ? $"at its peak this organization's progress can be read up to ~{most:N0} times a second"
                : $"at its peak one read of this organization's progress takes ~{Math.Max(perView / limit, openPerView / openLimit):N0} s of its partitions' read capacity")
            // Counted as if every view were a read: views that overlap share one (one read at a time per API instance).
            + " (views arriving while a read of it runs share the next one: at most one read at a time per API instance).");
    }
}
