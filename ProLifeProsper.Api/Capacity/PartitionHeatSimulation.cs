using System.Buffers.Binary;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Capacity;

/// <summary>Write load on the hottest partition key of one table or index, against DynamoDB's per-partition limit.</summary>
public sealed record PartitionLoad(string Target, string PartitionKey, double PeakWriteUnitsPerSecond, double LimitWriteUnitsPerSecond, bool OverLimit, string Advice);

/// <summary>How many partition keys an organization of a given size needs (for <c>PUT /api/admin/organizations/{id}/payment-shards</c>).</summary>
public sealed record OrganizationSplit(int Rank, double TransactionsPerSecond, double PeakWriteUnitsPerSecond, int Shards);

/// <summary>The simulation's result: hottest partitions as configured and with the recommendation applied, and the recommendation.</summary>
public sealed record PartitionHeat(
    int Organizations, double PeakTransactionsPerSecond, double LargestOrganizationTransactionsPerSecond, int OrganizationsOverLimit,
    int ShardsNeeded, int HotOrganizationSplitsNeeded, IReadOnlyList<PartitionLoad> Partitions,
    IReadOnlyList<double> TopOrganizationWriteUnits, IReadOnlyList<double> PendingShardWriteUnits,
    int RecommendedWriteShards, IReadOnlyList<OrganizationSplit> OrganizationSplits, IReadOnlyList<PartitionLoad> PartitionsRecommended,
    IReadOnlyList<double> PendingShardWriteUnitsRecommended);

/// <summary>
/// Partition heat at internet scale, computed with the code that builds the keys of real requests: organizations with
/// Zipf-distributed sizes share the peak, one also takes a spike; simulated seconds of Poisson arrivals (fixed seed) become
/// payments with UUIDv7 ids, and each is turned into its DynamoDB item by <see cref="PaymentItemMapper.ToItem"/> and its
/// idempotency record's key by <see cref="PaymentItemKeys.IdempotencyPartitionOf"/>. Write units are summed per partition
/// key per second, and the hottest second of each key is compared with the 1,000 WCU/s a partition takes. Run twice: as
/// configured (no organization split), then with the index shards and organization splits the first run calls for.
/// </summary>
public static class PartitionHeatSimulation
{
    public const double PartitionWriteLimit = 1_000;
    public const double PartitionReadLimit = 3_000;
    private const int SimulatedSeconds = 5;
    private const int TopOrganizations = 20;
    private static readonly DateTimeOffset SimulatedStart = new(2026, 12, 31, 20, 0, 0, TimeSpan.Zero);

    private enum Target { Table, Idempotency, Pending }

    private const int Targets = 3;

    private sealed class Heat
    {
        public readonly Dictionary<string, double>[] PeakPerKey = [new(), new(), new()];
        public readonly double[] PeakTotal = new double[Targets];
        public readonly double[] TopOrganizationPeak = new double[TopOrganizations];

        public (string Key, double Units) Hottest(Target target) =>
            PeakPerKey[(int)target].Count == 0 ? ("-", 0) : PeakPerKey[(int)target].MaxBy(kv => kv.Value) switch { var kv => (kv.Key, kv.Value) };

        public IReadOnlyList<double> ShardPeaks(Target target) =>
            PeakPerKey[(int)target].Values.OrderByDescending(v => v).Select(v => Math.Round(v)).ToList();
    }

    public static PartitionHeat Run(TrafficProfile profile, CapacityUnits.ItemSizes sizes, CancellationToken cancellationToken = default)
    {
        var weights = ZipfWeights(profile.Organizations, profile.ZipfExponent);
        var rates = weights.Select(w => w * profile.PeakTransactionsPerSecond).ToArray();
        rates[0] += profile.SpikeTransactionsPerSecond; // the telethon: the largest organization, made larger
        var organizations = Enumerable.Range(0, rates.Length).Select(i => OrganizationId(profile.Seed, i)).ToArray();
        var units = new double[]
        {
            CapacityUnits.WriteUnits(sizes.Payment), CapacityUnits.WriteUnits(sizes.IdempotencyRecord), CapacityUnits.WriteUnits(sizes.StatusIndexEntry),
        };
        var limit = PartitionWriteLimit * profile.TargetUtilization;

        var configured = Simulate(profile, rates, organizations, units, profile.WriteShards, _ => 1, cancellationToken);

        // What the first run calls for: index shards for the whole platform's pending payments, splits for hot organizations.
        var shardsNeeded = Math.Max(1, (int)Math.Ceiling(configured.PeakTotal[(int)Target.Pending] / limit));
        // The count may only grow, and no further than the API takes (past it, the advice says the count is short: ShardAdvice).
        var recommendedShards = Math.Min(DynamoDbOptions.MaxWriteShards, Math.Max(profile.WriteShards, shardsNeeded));
        // The simulated hottest second for the largest organizations, the mean plus a Poisson margin for the rest; with the
        // settlements and refunds that rewrite the same items later (the simulation writes each payment once).
        var rewrites = 1 + profile.PendingShare + profile.RefundShare;
        var splits = rates.Select((rate, rank) =>
            {
                var peak = rewrites * (rank < TopOrganizations ? configured.TopOrganizationPeak[rank] : (rate + 3 * Math.Sqrt(rate)) * units[(int)Target.Table]);
                return new OrganizationSplit(rank + 1, Math.Round(rate), Math.Round(peak), Math.Clamp((int)Math.Ceiling(peak / limit), 1, OrganizationShardRegistry.MaxShards));
            })
            .TakeWhile(s => s.Rank <= TopOrganizations || s.Shards > 1)
            .ToList();
        var splitOf = splits.ToDictionary(s => s.Rank - 1, s => s.Shards);
        var recommended = Simulate(profile, rates, organizations, units, recommendedShards, rank => splitOf.GetValueOrDefault(rank, 1), cancellationToken);

        var largest = configured.TopOrganizationPeak[0];
        var hotSplits = splits.FirstOrDefault()?.Shards ?? 1;
        var over = rates.Count(r => r * units[(int)Target.Table] > PartitionWriteLimit);
        var (pendingKey, pendingPeak) = configured.Hottest(Target.Pending);
        var (recordKey, recordPeak) = configured.Hottest(Target.Idempotency);
        var partitions = new List<PartitionLoad>
        {
            Load("table", "organizationPartition (largest organization, not split)", largest,
                largest > limit
                    ? $"Split it: PUT /api/admin/organizations/{{id}}/payment-shards {{\"shards\": {hotSplits}}}. Its payments then go to {hotSplits} keys <organization>#k, k = hash(id) mod {hotSplits}; reads ask the {hotSplits} keys in parallel."
                    : "Fine: no organization comes near one partition's limit."),
            Load("idempotency table", $"{recordKey} (hottest of {PaymentItemKeys.IdempotencyKeyShards} per organization)", recordPeak,
                $"Each organization's keys are spread over {PaymentItemKeys.IdempotencyKeyShards} partition keys by a hash of the key."),
            Load("status-timestamp-index", "pending (all shards together)", configured.PeakTotal[(int)Target.Pending],
                "Sparse: only pending payments; unsharded it would still carry every bank transfer of the platform."),
            Load("status-timestamp-index", $"{pendingKey} (hottest of {profile.WriteShards} shards)", pendingPeak,
                pendingPeak > limit ? ShardAdvice($"Set DynamoDb:WriteShards to {recommendedShards}.") : "Fine at this shard count."),
            Load("transactionId-index", "transactionId", CapacityUnits.WriteUnits(sizes.TransactionIdIndexEntry), "One key per payment: spread evenly by nature."),
        };

        var (tableKey, tablePeak) = recommended.Hottest(Target.Table);
        var (recordKeyAfter, recordPeakAfter) = recommended.Hottest(Target.Idempotency);
        var (pendingKeyAfter, pendingPeakAfter) = recommended.Hottest(Target.Pending);
        var after = new List<PartitionLoad>
        {
            Load("table", $"{tableKey} (hottest, organizations split as recommended)", tablePeak, "Largest organizations split; every other on one key."),
            Load("idempotency table", recordKeyAfter, recordPeakAfter, "Unchanged: 16 keys per organization."),
            Load("status-timestamp-index", $"{pendingKeyAfter} (hottest of {recommendedShards} shards)", pendingPeakAfter, ShardAdvice($"DynamoDb:WriteShards = {recommendedShards}.")),
        };

        // Past what the API takes, the recommendation is short of the need, and says so.
        string ShardAdvice(string advice) => shardsNeeded <= recommendedShards ? advice :
            $"{advice} This load needs {shardsNeeded:N0} shards at the target utilisation; the API takes at most {DynamoDbOptions.MaxWriteShards:N0}, so each " +
            "shard runs above the target: lower the pending share or the peak, or raise the target utilisation.";

        return new PartitionHeat(profile.Organizations, profile.PeakTransactionsPerSecond, Math.Round(rates[0]), over, shardsNeeded, hotSplits,
            partitions, configured.TopOrganizationPeak.Select(v => Math.Round(v)).ToList(), configured.ShardPeaks(Target.Pending),
            recommendedShards, splits.Where(s => s.Shards > 1).ToList(), after, recommended.ShardPeaks(Target.Pending));
    }

    private static PartitionLoad Load(string target, string key, double peak, string advice) =>
        new(target, key, Math.Round(peak), PartitionWriteLimit, peak > PartitionWriteLimit, advice);

    // Every payment of every simulated second through the real key code; peaks per key and per target.
    private static Heat Simulate(TrafficProfile profile, double[] rates, Guid[] organizations, double[] units, int indexShards, Func<int, int> organizationShards,
        CancellationToken cancellationToken)
    {
        var random = new Random(profile.Seed);
        var heat = new Heat();
        var second = new Dictionary<string, double>[] { new(), new(), new() };
        var randomBytes = new byte[16];
        for (var s = 0; s < SimulatedSeconds; s++)
        {
            foreach (var counts in second) counts.Clear();
            var totals = new double[Targets];
            var at = SimulatedStart.AddSeconds(s);
            for (var org = 0; org < rates.Length; org++)
            {
                cancellationToken.ThrowIfCancellationRequested(); // a plan nobody waits for any more stops
                var arrivals = Poisson(random, rates[org]);
                if (arrivals == 0) continue;
                var shards = organizationShards(org);
                for (var i = 0; i < arrivals; i++)
                {
                    random.NextBytes(randomBytes);
                    var createdAt = at.AddMilliseconds(randomBytes[0] * 1000 / 256);
                    var pending = random.NextDouble() < profile.PendingShare;
                    var item = PaymentItemMapper.ToItem(Payment(organizations[org], createdAt, randomBytes, pending), indexShards, shards);
                    Add(second, totals, Target.Table, item[PaymentItemKeys.Partition].S, units);
                    if (item.TryGetValue(PaymentItemKeys.StatusShard, out var pendingShard))
                    {
                        // Its entry is written now and deleted by its settlement, on the same key: in a steady state, both each second.
                        Add(second, totals, Target.Pending, pendingShard.S, units);
                        Add(second, totals, Target.Pending, pendingShard.S, units);
                    }
                    Add(second, totals, Target.Idempotency, PaymentItemKeys.IdempotencyPartitionOf(organizations[org], IdempotencyKey(randomBytes)), units);
                }
                if (org < TopOrganizations) heat.TopOrganizationPeak[org] = Math.Max(heat.TopOrganizationPeak[org], arrivals * units[(int)Target.Table]);
            }
            for (var t = 0; t < Targets; t++)
            {
                heat.PeakTotal[t] = Math.Max(heat.PeakTotal[t], totals[t]);
                foreach (var (key, value) in second[t])
                    if (value > heat.PeakPerKey[t].GetValueOrDefault(key)) heat.PeakPerKey[t][key] = value;
            }
        }
        return heat;
    }

    private static void Add(Dictionary<string, double>[] second, double[] totals, Target target, string key, double[] units)
    {
        var t = (int)target;
        second[t][key] = second[t].GetValueOrDefault(key) + units[t];
        totals[t] += units[t];
    }

    private static PaymentTransaction Payment(Guid organizationId, DateTimeOffset createdAt, byte[] random, bool pending) => new()
    {
        TransactionId = Version7(createdAt, random),
        OrganizationId = organizationId,
        CampaignId = organizationId,
        DonorId = organizationId,
        AmountMinor = 2_500,
        Currency = "USD",
        Status = pending ? PaymentStatus.Pending : PaymentStatus.Succeeded,
        PaymentMethodType = pending ? PaymentMethodType.BankTransfer : PaymentMethodType.Card,
        PaymentMethodToken = pending ? "tok_bankTransfer" : "tok_visa",
        IdempotencyKey = "",
        CreatedAt = createdAt,
        UpdatedAt = createdAt,
    };

    // A UUIDv7 as Guid.CreateVersion7 makes it (48-bit millisecond time, version and variant bits), from the seeded random bytes.
    private static Guid Version7(DateTimeOffset createdAt, byte[] random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.CopyTo(bytes);
        var versionAndRandom = 0x7000u | ((uint)(random[6] & 0x0F) << 8) | random[7];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, ((ulong)createdAt.ToUnixTimeMilliseconds() << 16) | versionAndRandom);
        bytes[8] = (byte)(0x80 | (random[8] & 0x3F));
        return new Guid(bytes, bigEndian: true);
    }

    private static string IdempotencyKey(byte[] random) => Convert.ToHexString(random);

    private static Guid OrganizationId(int seed, int index) => Version7(SimulatedStart.AddDays(-365).AddMilliseconds(index),
        Guid.Parse($"{seed:x8}-0000-4000-8000-{index:x12}").ToByteArray());

    /// <summary>Normalised Zipf weights: organization i (from 1) has weight 1/i^s.</summary>
    public static double[] ZipfWeights(int organizations, double exponent)
    {
        var weights = Enumerable.Range(1, organizations).Select(i => 1 / Math.Pow(i, exponent)).ToArray();
        var sum = weights.Sum();
        for (var i = 0; i < weights.Length; i++) weights[i] /= sum;
        return weights;
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

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
