namespace ProLifeProsper.Api.Capacity;

/// <summary>Monthly cost of one way of running the payments table.</summary>
public sealed record ModeCost(string Mode, decimal MonthlyUsd, long WriteCapacityUnits, long ReadCapacityUnits, bool ServesPeak, string Notes);

/// <summary>The monthly units a profile consumes and what they cost in each billing mode.</summary>
public sealed record CostEstimate(
    double WriteUnitsPerPayment, double ReadUnitsPerPayment, double MonthlyWriteUnits, double MonthlyReadUnits,
    double PeakWriteUnitsPerSecond, double PeakReadUnitsPerSecond, double StorageGb, decimal StorageMonthlyUsd,
    IReadOnlyList<ModeCost> Modes, string Recommended, decimal PostgresMonthlyUsd, string DesignGuideComparison);

/// <summary>
/// Prices a traffic profile from the units per operation the code really costs. Provisioned modes are sized for the
/// peak at the target utilisation (auto scaling follows traffic, but a spike must not wait for it); on-demand
/// serves any peak. The recommendation is the cheapest mode that serves the peak.
/// </summary>
public static class CostModel
{
    private const double SecondsPerMonth = 730 * 3600;

    public static CostEstimate Estimate(TrafficProfile profile, IReadOnlyList<OperationUnits> units, CapacityUnits.ItemSizes sizes, CapacityPrices prices)
    {
        double Of(string operation, Func<OperationUnits, double> pick) => pick(units.Single(u => u.Operation == operation));

        // Per payment created, everything its life costs on average (creation, settlement if pending, a refund).
        double Life(Func<OperationUnits, double> pick) =>
            (1 - profile.PendingShare) * Of(CapacityUnits.CreateCard, pick)
            + profile.PendingShare * (Of(CapacityUnits.CreatePending, pick) + Of(CapacityUnits.Settle, pick))
            + profile.RefundShare * Of(CapacityUnits.Refund, pick);

        var writePerPayment = Life(u => u.WriteUnits);
        var readPerPayment = Life(u => u.ReadUnits)
            + profile.ReadsPerPayment * Of(CapacityUnits.GetById, u => u.ReadUnits)
            + profile.ListPagesPerPayment * Of(CapacityUnits.ListPage, u => u.ReadUnits);

        var monthlyWrites = profile.MonthlyTransactions * writePerPayment;
        var monthlyReads = profile.MonthlyTransactions * readPerPayment;
        var peakWrites = profile.PeakTransactionsPerSecond * writePerPayment;
        var peakReads = profile.PeakTransactionsPerSecond * readPerPayment;

        // Storage: the retained payments with their index entries and idempotency records.
        var bytesPerPayment = sizes.Payment + sizes.IdempotencyRecord + sizes.TransactionIdIndexEntry + sizes.DateHourIndexEntry + 100 * 4; // +100 B overhead per item
        var storageGb = profile.MonthlyTransactions * (double)profile.RetentionMonths * bytesPerPayment / 1e9;
        var storageUsd = Math.Max(0, (decimal)storageGb - prices.FreeStorageGb) * prices.StoragePerGbMonth;

        var onDemand = (decimal)(monthlyWrites / 1e6) * prices.OnDemandWritePerMillion + (decimal)(monthlyReads / 1e6) * prices.OnDemandReadPerMillion;
        var wcu = (long)Math.Ceiling(peakWrites / profile.TargetUtilization);
        var rcu = (long)Math.Ceiling(peakReads / profile.TargetUtilization);
        var provisioned = Provisioned(wcu, rcu, prices);
        var reserved = Reserved(wcu, rcu, prices);
        var guideCapacity = 2_000 / writePerPayment;
        var guide = Provisioned(2_000, 1_000, prices);

        var modes = new List<ModeCost>
        {
            new("on-demand", Round(onDemand + storageUsd), 0, 0, true, "pay per request; serves any peak without planning"),
            new("provisioned (right-sized for peak)", Round(provisioned + storageUsd), wcu, rcu, true,
                $"{wcu:N0} WCU / {rcu:N0} RCU around the clock at {profile.TargetUtilization:P0} of peak"),
            new("reserved capacity, 1 year (right-sized)", Round(reserved + storageUsd), wcu, rcu, true, "the provisioned capacity bought for a year (upfront spread monthly)"),
            new("provisioned (design guide: 1,000 RCU / 2,000 WCU)", Round(guide + storageUsd), 2_000, 1_000, guideCapacity >= profile.PeakTransactionsPerSecond,
                $"serves at most ~{guideCapacity:N0} payments/s"),
        };
        var recommended = modes.Where(m => m.ServesPeak).MinBy(m => m.MonthlyUsd)!.Mode;

        var postgres = Round(prices.PostgresInstanceHour * CapacityPrices.HoursPerMonth + (decimal)storageGb * 1.5m * prices.PostgresStoragePerGbMonth);
        var guideText = $"The design guide's '5M monthly transactions: ~$200/month' matches none of the modes for 5M payments/month: "
            + $"on-demand is about ${Round(OnDemandFor(5_000_000, writePerPayment, readPerPayment, prices)):N0}/month plus storage, while its own 1,000 RCU / 2,000 WCU "
            + $"provisioning costs ${Round(guide):N0}/month whatever the traffic, and tops out near {guideCapacity:N0} payments/s, far below '40,000+ transactions/second'.";

        return new CostEstimate(Math.Round(writePerPayment, 3), Math.Round(readPerPayment, 3), monthlyWrites, monthlyReads,
            Math.Round(peakWrites), Math.Round(peakReads), Math.Round(storageGb, 2), Round(storageUsd), modes, recommended, postgres, guideText);
    }

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
}
