namespace ProLifeProsper.Api.Capacity;

/// <summary>Write load on the hottest partition key of one table or index, against DynamoDB's per-partition limit.</summary>
public sealed record PartitionLoad(string Target, string PartitionKey, double PeakWriteUnitsPerSecond, double LimitWriteUnitsPerSecond, bool OverLimit, string Advice);

/// <summary>The simulation's result: hottest partitions with and without the write sharding, and what to change.</summary>
public sealed record PartitionHeat(
    int Organizations, double PeakTransactionsPerSecond, double LargestOrganizationTransactionsPerSecond, int OrganizationsOverLimit,
    int ShardsNeeded, int HotOrganizationSplitsNeeded, IReadOnlyList<PartitionLoad> Partitions,
    IReadOnlyList<double> TopOrganizationWriteUnits, IReadOnlyList<double> DateHourShardWriteUnits);

/// <summary>
/// Partition heat at internet scale: organizations with Zipf-distributed sizes share the peak, one of them also
/// takes a spike; one simulated minute of Poisson arrivals (fixed seed) is spread over the base table (partition
/// key = organization), the pending index and the hourly index, with and without their write sharding, and the
/// hottest second of each partition is compared with the 1,000 WCU/s a partition takes.
/// </summary>
public static class PartitionHeatSimulation
{
    public const double PartitionWriteLimit = 1_000;
    public const double PartitionReadLimit = 3_000;
    private const int SimulatedSeconds = 60;

    public static PartitionHeat Run(TrafficProfile profile, CapacityUnits.ItemSizes sizes)
    {
        var random = new Random(profile.Seed);
        var weights = ZipfWeights(profile.Organizations, profile.ZipfExponent);
        var rates = weights.Select(w => w * profile.PeakTransactionsPerSecond).ToArray();
        rates[0] += profile.SpikeTransactionsPerSecond; // the telethon: the largest organization, made larger
        var total = rates.Sum();

        var tableUnits = CapacityUnits.WriteUnits(sizes.Payment);
        var hourUnits = CapacityUnits.WriteUnits(sizes.DateHourIndexEntry);
        var pendingUnits = CapacityUnits.WriteUnits(sizes.StatusIndexEntry);
        var shards = profile.WriteShards;

        // Hottest second per partition over a simulated minute (Poisson arrivals; shards chosen per payment).
        var orgPeak = new double[Math.Min(profile.Organizations, 20)];
        var hourShardPeak = new double[shards];
        var pendingShardPeak = new double[shards];
        double hourUnshardedPeak = 0, pendingUnshardedPeak = 0;
        for (var second = 0; second < SimulatedSeconds; second++)
        {
            var hourShard = new double[shards];
            var pendingShard = new double[shards];
            double secondTotal = 0, secondPending = 0;
            for (var org = 0; org < rates.Length; org++)
            {
                var arrivals = Poisson(random, rates[org]);
                if (arrivals == 0) continue;
                if (org < orgPeak.Length) orgPeak[org] = Math.Max(orgPeak[org], arrivals * tableUnits);
                secondTotal += arrivals;
                var pending = Binomial(random, arrivals, profile.PendingShare);
                secondPending += pending;
                Spread(random, hourShard, arrivals, hourUnits);
                Spread(random, pendingShard, pending, pendingUnits);
            }
            for (var s = 0; s < shards; s++)
            {
                hourShardPeak[s] = Math.Max(hourShardPeak[s], hourShard[s]);
                pendingShardPeak[s] = Math.Max(pendingShardPeak[s], pendingShard[s]);
            }
            hourUnshardedPeak = Math.Max(hourUnshardedPeak, secondTotal * hourUnits);
            pendingUnshardedPeak = Math.Max(pendingUnshardedPeak, secondPending * pendingUnits);
        }

        var limit = PartitionWriteLimit * profile.TargetUtilization;
        var shardsNeeded = (int)Math.Ceiling(hourUnshardedPeak / limit);
        var largest = orgPeak.Length > 0 ? orgPeak[0] : 0;
        var splits = (int)Math.Ceiling(largest / limit);
        var over = rates.Count(r => r * tableUnits > PartitionWriteLimit);

        var partitions = new List<PartitionLoad>
        {
            new("table", "organizationId (largest organization)", Math.Round(largest), PartitionWriteLimit, largest > PartitionWriteLimit,
                largest > limit
                    ? $"Split hot organizations' partition key into organizationId#k, k = hash(transactionId) mod {splits}, and query the {splits} keys in parallel; the time-ordered sort key keeps DynamoDB's split-for-heat from doing it."
                    : "Fine: no organization comes near one partition's limit."),
            new("dateHour-index", "dateHour (unsharded)", Math.Round(hourUnshardedPeak), PartitionWriteLimit, hourUnshardedPeak > PartitionWriteLimit,
                "Every payment of the hour on one key: this is why the index is write-sharded."),
            new("dateHour-index", $"dateHour#n ({shards} shards, hottest)", Math.Round(hourShardPeak.Max()), PartitionWriteLimit, hourShardPeak.Max() > PartitionWriteLimit,
                hourShardPeak.Max() > limit ? $"Raise DynamoDb:WriteShards to at least {shardsNeeded}." : "Fine at this shard count."),
            new("status-timestamp-index", "pending (unsharded)", Math.Round(pendingUnshardedPeak), PartitionWriteLimit, pendingUnshardedPeak > PartitionWriteLimit,
                "Sparse: only pending payments; unsharded it would still carry every bank transfer of the platform."),
            new("status-timestamp-index", $"pending#n ({shards} shards, hottest)", Math.Round(pendingShardPeak.Max()), PartitionWriteLimit, pendingShardPeak.Max() > PartitionWriteLimit,
                pendingShardPeak.Max() > limit ? $"Raise DynamoDb:WriteShards to at least {(int)Math.Ceiling(pendingUnshardedPeak / limit)}." : "Fine at this shard count."),
            new("transactionId-index", "transactionId", Math.Round(CapacityUnits.WriteUnits(sizes.TransactionIdIndexEntry)), PartitionWriteLimit, false,
                "One key per payment: spread evenly by nature."),
        };

        return new PartitionHeat(profile.Organizations, profile.PeakTransactionsPerSecond, Math.Round(rates[0]), over, Math.Max(1, shardsNeeded), Math.Max(1, splits),
            partitions, orgPeak.Select(v => Math.Round(v)).ToList(), hourShardPeak.Select(v => Math.Round(v)).ToList());
    }

    /// <summary>Normalised Zipf weights: organization i (from 1) has weight 1/i^s.</summary>
    public static double[] ZipfWeights(int organizations, double exponent)
    {
        var weights = Enumerable.Range(1, organizations).Select(i => 1 / Math.Pow(i, exponent)).ToArray();
        var sum = weights.Sum();
        for (var i = 0; i < weights.Length; i++) weights[i] /= sum;
        return weights;
    }

    private static void Spread(Random random, double[] shards, long count, double units)
    {
        if (count > 10_000)
        {
            // Many arrivals: the multinomial is tight around its mean; keep its spread with a normal draw per shard.
            var each = count / (double)shards.Length;
            for (var s = 0; s < shards.Length; s++) shards[s] += Math.Max(0, each + Normal(random) * Math.Sqrt(each)) * units;
            return;
        }
        for (var i = 0; i < count; i++) shards[random.Next(shards.Length)] += units;
    }

    private static long Poisson(Random random, double mean)
    {
        if (mean <= 0) return 0;
        if (mean > 50) return Math.Max(0, (long)Math.Round(mean + Normal(random) * Math.Sqrt(mean)));
        var limit = Math.Exp(-mean);
        long k = 0;
        var p = random.NextDouble();
        while (p > limit) { k++; p *= random.NextDouble(); }
        return k;
    }

    private static long Binomial(Random random, long n, double p)
    {
        if (n == 0 || p <= 0) return 0;
        if (n > 50) return Math.Clamp((long)Math.Round(n * p + Normal(random) * Math.Sqrt(n * p * (1 - p))), 0, n);
        long k = 0;
        for (var i = 0; i < n; i++) if (random.NextDouble() < p) k++;
        return k;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
