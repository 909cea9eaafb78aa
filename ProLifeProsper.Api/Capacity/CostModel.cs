using ProLifeProsper.Api.Storage.DynamoDb;

namespace ProLifeProsper.Api.Capacity;

/// <summary>Monthly cost of one way of running the payment tables.</summary>
public sealed record ModeCost(string Mode, decimal MonthlyUsd, long WriteCapacityUnits, long ReadCapacityUnits, bool ServesPeak, string Notes);

/// <summary>
/// One pool of capacity (a table or an index, named as in <c>DynamoDb:ProvisionedThroughput</c>): the units a payment's life
/// costs there, its peak per second, and what provisioning it for that peak takes.
/// </summary>
public sealed record PoolCapacity(
    string Pool, double WriteUnitsPerPayment, double ReadUnitsPerPayment, double PeakWriteUnitsPerSecond, double PeakReadUnitsPerSecond,
    long ProvisionedWriteCapacityUnits, long ProvisionedReadCapacityUnits);

/// <summary>The monthly units a profile consumes and what they cost in each billing mode.</summary>
public sealed record CostEstimate(
    double WriteUnitsPerPayment, double ReadUnitsPerPayment, double MonthlyWriteUnits, double MonthlyReadUnits,
    double PeakWriteUnitsPerSecond, double PeakReadUnitsPerSecond, IReadOnlyList<PoolCapacity> Pools, double StorageGb, decimal StorageMonthlyUsd,
    IReadOnlyList<ModeCost> Modes, string Recommended, decimal PostgresMonthlyUsd, string DesignGuideComparison);

/// <summary>
/// Prices a traffic profile from the units per operation the code really costs. Provisioned capacity is per pool: every
/// table and every index has its own read and write units, each sized for that pool's peak (the profile's peak plus its
/// spike) at the target utilisation, and the bill is their sum. On-demand serves any peak. The recommendation is the
/// cheapest mode that serves the peak.
/// </summary>
public static class CostModel
{
    private const double SecondsPerMonth = 730 * 3600;

    public const string OnDemand = "on-demand";
    public const string ProvisionedRightSized = "provisioned (right-sized for peak)";
    public const string ReservedRightSized = "reserved capacity, 1 year (right-sized)";
    public const string ProvisionedDefaults = "provisioned (the code's defaults: 1,000 RCU / 2,000 WCU per table and index)";

    public static CostEstimate Estimate(TrafficProfile profile, IReadOnlyList<OperationUnits> units, CapacityUnits.ItemSizes sizes, CapacityPrices prices)
    {
        OperationUnits Of(string operation) => units.Single(u => u.Operation == operation);

        // Per payment created, everything its life costs on average: its creation (and a replay of it), a settlement if
        // pending, a refund; the gets, list pages and campaign progress reads per payment.
        var life = new (OperationUnits Operation, double Times)[]
        {
            (Of(CapacityUnits.CreateCard), 1 - profile.PendingShare),
            (Of(CapacityUnits.CreatePending), profile.PendingShare),
            (Of(CapacityUnits.Settle), profile.PendingShare),
            (Of(CapacityUnits.Refund), profile.RefundShare),
            (Of(CapacityUnits.ReplayedCreate), profile.ReplayShare),
            (Of(CapacityUnits.GetById), profile.ReadsPerPayment),
            (Of(CapacityUnits.ListPage), profile.ListPagesPerPayment),
            (Of(CapacityUnits.CampaignProgress), profile.CampaignViewsPerPayment),
            (OpenWindowReads(profile, sizes), profile.CampaignViewsPerPayment),
        };
        double PerPayment(string pool, Func<OperationUnits, IReadOnlyDictionary<string, double>> pick) =>
            life.Sum(l => l.Times * pick(l.Operation).GetValueOrDefault(pool));

        var peak = profile.PeakTransactionsPerSecond + profile.SpikeTransactionsPerSecond;
        var perPool = DynamoDbTables.CapacityTargets.Select(pool => (Pool: pool, Write: PerPayment(pool, u => u.Writes), Read: PerPayment(pool, u => u.Reads))).ToList();
        RefuseBeyondPricing(profile, peak, perPool.Max(p => Math.Max(p.Write, p.Read)));
        var pools = perPool.Select(p => new PoolCapacity(p.Pool, Math.Round(p.Write, 4), Math.Round(p.Read, 4), Math.Round(peak * p.Write), Math.Round(peak * p.Read),
            Provision(peak * p.Write, profile.TargetUtilization), Provision(peak * p.Read, profile.TargetUtilization))).ToList();

        var writePerPayment = pools.Sum(p => p.WriteUnitsPerPayment);
        var readPerPayment = pools.Sum(p => p.ReadUnitsPerPayment);
        var monthlyWrites = profile.MonthlyTransactions * writePerPayment;
        var monthlyReads = profile.MonthlyTransactions * readPerPayment;

        // Storage: the retained payments with their index entries and records (+100 B overhead per item); pending entries leave.
        var bytesPerPayment = sizes.Payment + sizes.IdempotencyRecord + sizes.TransactionIdIndexEntry + 100 * 3
                              + profile.RefundShare * (sizes.RefundRecord + 100);
        var storageGb = profile.MonthlyTransactions * (double)profile.RetentionMonths * bytesPerPayment / 1e9;
        var storageUsd = Math.Max(0, (decimal)storageGb - prices.FreeStorageGb) * prices.StoragePerGbMonth;

        var onDemand = (decimal)(monthlyWrites / 1e6) * prices.OnDemandWritePerMillion + (decimal)(monthlyReads / 1e6) * prices.OnDemandReadPerMillion;
        var wcu = pools.Sum(p => p.ProvisionedWriteCapacityUnits);
        var rcu = pools.Sum(p => p.ProvisionedReadCapacityUnits);

        // What the code provisions when DynamoDb:BillingMode is Provisioned and nothing else is set: the defaults in every pool.
        var defaults = new DynamoDbOptions();
        var defaultPools = DynamoDbTables.CapacityTargets.Count;
        var (defaultWcu, defaultRcu) = (defaults.WriteCapacityUnits * defaultPools, defaults.ReadCapacityUnits * defaultPools);
        var (limitingPool, defaultsServe) = pools.Select(p => (p.Pool, Serves: Math.Min(
                p.WriteUnitsPerPayment > 0 ? defaults.WriteCapacityUnits / p.WriteUnitsPerPayment : double.PositiveInfinity,
                p.ReadUnitsPerPayment > 0 ? defaults.ReadCapacityUnits / p.ReadUnitsPerPayment : double.PositiveInfinity)))
            .MinBy(p => p.Serves);

        var modes = new List<ModeCost>
        {
            new(OnDemand, Round(onDemand + storageUsd), 0, 0, true, "pay per request; serves any peak without planning"),
            new(ProvisionedRightSized, Round(Provisioned(wcu, rcu, prices) + storageUsd), wcu, rcu, true,
                $"{wcu:N0} WCU / {rcu:N0} RCU around the clock over {pools.Count} tables and indexes, each at {profile.TargetUtilization:P0} at the peak"),
            new(ReservedRightSized, Round(Reserved(wcu, rcu, prices) + storageUsd), wcu, rcu, true, "the provisioned capacity bought for a year (upfront spread monthly)"),
            new(ProvisionedDefaults, Round(Provisioned(defaultWcu, defaultRcu, prices) + storageUsd), defaultWcu, defaultRcu, defaultsServe >= peak,
                $"{defaultPools} pools of 1,000 RCU / 2,000 WCU; serves at most ~{defaultsServe:N0} payments/s ({limitingPool} runs out first)"),
        };
        var recommended = modes.Where(m => m.ServesPeak).MinBy(m => m.MonthlyUsd)!.Mode;

        var postgres = Round(prices.PostgresInstanceHour * CapacityPrices.HoursPerMonth + (decimal)storageGb * 1.5m * prices.PostgresStoragePerGbMonth);
        var guideText = $"The design guide's '5M monthly transactions: ~$200/month' matches none of the modes for 5M payments/month: "
            + $"on-demand is about ${Round(OnDemandFor(5_000_000, writePerPayment, readPerPayment, prices)):N0}/month plus storage, while its 1,000 RCU / 2,000 WCU "
            + $"(which the code gives each of its {defaultPools} tables and indexes) cost ${Round(Provisioned(defaultWcu, defaultRcu, prices)):N0}/month whatever the traffic, "
            + $"and top out near {defaultsServe:N0} payments/s, far below '40,000+ transactions/second'.";

        return new CostEstimate(Math.Round(writePerPayment, 3), Math.Round(readPerPayment, 3), monthlyWrites, monthlyReads,
            Math.Round(peak * writePerPayment), Math.Round(peak * readPerPayment), pools, Math.Round(storageGb, 2), Round(storageUsd),
            modes, recommended, postgres, guideText);
    }

    /// <summary>Far beyond any DynamoDB account (a table's quota is tens of thousands of units a second), yet whole in a long.</summary>
    public const double MostUnitsPerSecond = 1e12;

    /// <summary>
    /// Each field of a profile has its bound, but their product may not: a thousand views of 400 KB payments at 200,000 a
    /// second need ~1e19 read units a second, which no long holds. Such a profile is refused as input, not priced.
    /// </summary>
    private static void RefuseBeyondPricing(TrafficProfile profile, double peak, double mostUnitsPerPayment)
    {
        var units = peak * mostUnitsPerPayment / profile.TargetUtilization;
        if (double.IsFinite(units) && units <= MostUnitsPerSecond) return;
        throw Domain.Common.DomainErrors.Validation("profile",
            $"This profile needs {units:E1} capacity units a second in one table or index, beyond the {MostUnitsPerSecond:E0} this plan prices: " +
            "lower campaignViewsPerPayment, readsPerPayment, listPagesPerPayment, extraBytesPerPayment or the peak.");
    }

    /// <summary>Units provisioned for a pool's peak at the target utilisation; DynamoDB's minimum is 1.</summary>
    public static long Provision(double peakUnitsPerSecond, double targetUtilization) => Math.Max(1, (long)Math.Ceiling(Math.Round(peakUnitsPerSecond / targetUtilization, 6)));

    public static decimal Provisioned(long wcu, long rcu, CapacityPrices prices) =>
        (wcu * prices.ProvisionedWcuHour + rcu * prices.ProvisionedRcuHour) * CapacityPrices.HoursPerMonth;

    public static decimal Reserved(long wcu, long rcu, CapacityPrices prices)
    {
        var wcuBlocks = Math.Ceiling(wcu / 100m);
        var rcuBlocks = Math.Ceiling(rcu / 100m);
        return wcuBlocks * (prices.ReservedWcu100Upfront / 12 + prices.ReservedWcu100Hour * CapacityPrices.HoursPerMonth)
               + rcuBlocks * (prices.ReservedRcu100Upfront / 12 + prices.ReservedRcu100Hour * CapacityPrices.HoursPerMonth);
    }

    private static decimal OnDemandFor(long payments, double writePerPayment, double readPerPayment, CapacityPrices prices) =>
        (decimal)(payments * writePerPayment / 1e6) * prices.OnDemandWritePerMillion + (decimal)(payments * readPerPayment / 1e6) * prices.OnDemandReadPerMillion;

    private static decimal Round(decimal value) => Math.Round(value, 2, MidpointRounding.AwayFromZero);

    internal static double AverageTransactionsPerSecond(TrafficProfile profile) => profile.MonthlyTransactions / SecondsPerMonth;

    /// <summary>
    /// What a campaign view reads live beyond the operation's minimum, averaged over the views: each payment brings a view of
    /// its own organization, whose open window holds that organization's payments of the last half hour or so (Zipf sizes).
    /// </summary>
    private static OperationUnits OpenWindowReads(TrafficProfile profile, CapacityUnits.ItemSizes sizes)
    {
        var rate = AverageTransactionsPerSecond(profile);
        var perView = PartitionHeatSimulation.ZipfWeights(profile.Organizations, profile.ZipfExponent)
            .Sum(w => w * (CapacityUnits.OpenWindowReadUnits(w * rate, sizes.Payment) - 1)); // the operation counts the first unit
        return new OperationUnits("campaign progress: the open window's payments", new Dictionary<string, double>(),
            new Dictionary<string, double> { [DynamoDbTables.TransactionsTarget] = perView }, "the organization's payments since its last kept slice of the open hour");
    }
}
