namespace ProLifeProsper.Api.Capacity;

/// <summary>
/// The largest organization's campaign progress reads against its aggregates partition key: every request of one
/// organization reads its kept totals from the same key, so that key's read limit caps how many views it serves.
/// </summary>
public sealed record CampaignViewsLoad(
    double ViewsPerSecond, double ReadUnitsPerView, double ReadUnitsPerSecond, double LimitReadUnitsPerSecond, bool OverLimit,
    double MostViewsPerSecond, string Advice)
{
    public static CampaignViewsLoad Of(TrafficProfile profile, PartitionHeat heat, IReadOnlyList<OperationUnits> units)
    {
        var perView = CapacityUnits.CampaignProgressAggregatesReads(units);
        var views = heat.LargestOrganizationTransactionsPerSecond * profile.CampaignViewsPerPayment;
        var limit = PartitionHeatSimulation.PartitionReadLimit;
        var most = perView > 0 ? Math.Floor(limit / perView) : double.PositiveInfinity;
        var over = views * perView > limit;
        return new CampaignViewsLoad(Math.Round(views), perView, Math.Round(views * perView), limit, over, most,
            over
                ? $"Over one partition's reads: serve campaign progress from a cache in front of the API (a CDN, or a cache of a few seconds); one organization's kept totals serve at most ~{most:N0} views/s."
                : $"Fine: one organization's kept totals serve up to ~{most:N0} views/s.");
    }
}
