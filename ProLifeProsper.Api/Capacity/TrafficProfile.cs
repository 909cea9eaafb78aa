namespace ProLifeProsper.Api.Capacity;

/// <summary>A user's traffic, the input of the capacity plan. Every field has a default.</summary>
public sealed record TrafficProfile
{
    /// <summary>Payments created per month.</summary>
    public long MonthlyTransactions { get; init; } = 5_000_000;

    /// <summary>Highest payments per second to serve.</summary>
    public double PeakTransactionsPerSecond { get; init; } = 40_000;

    /// <summary>Payment reads (gets) per payment created.</summary>
    public double ReadsPerPayment { get; init; } = 3;

    /// <summary>List pages (50 payments) read per payment created.</summary>
    public double ListPagesPerPayment { get; init; } = 0.05;

    /// <summary>
    /// Campaign progress reads (GET of a campaign with its totals) per payment created: an organization's dashboard, or a
    /// donation page that asks the API rather than a cache. Each reads the organization's kept totals, all from one partition key.
    /// </summary>
    public double CampaignViewsPerPayment { get; init; } = 1;

    /// <summary>Share of payments that are bank transfers (pending, settled later).</summary>
    public double PendingShare { get; init; } = 0.1;

    /// <summary>Share of payments that are refunded once.</summary>
    public double RefundShare { get; init; } = 0.02;

    /// <summary>Share of payments whose create a client sends again with the same key (a lost answer, a double click): each costs a refused write of the record and of the payment.</summary>
    public double ReplayShare { get; init; } = 0.01;

    /// <summary>
    /// Length of the idempotency keys clients send (1 to 255). A create's record holds its key twice (as its sort key and in
    /// the payment it keeps), a refund's three times: long keys push records past 1 KB. 36 is a UUID.
    /// </summary>
    public int IdempotencyKeyLength { get; init; } = 36;

    /// <summary>Bytes per payment beyond what this code writes (custom metadata); 0 for the code as it is.</summary>
    public int ExtraBytesPerPayment { get; init; }

    /// <summary>How many months of payments are kept (storage).</summary>
    public int RetentionMonths { get; init; } = 24;

    public int Organizations { get; init; } = 20_000;

    /// <summary>Zipf exponent of organization sizes (1 = classic Zipf: the largest is twice the second).</summary>
    public double ZipfExponent { get; init; } = 1.0;

    /// <summary>Extra payments per second for one organization during a spike (a telethon), on top of its share (and of the peak: provisioned capacity and warm throughput serve both).</summary>
    public double SpikeTransactionsPerSecond { get; init; } = 5_000;

    /// <summary>Write shards of the pending index (DynamoDb:WriteShards).</summary>
    public int WriteShards { get; init; } = 8;

    /// <summary>Target utilisation of provisioned capacity and of a partition's limits (headroom for bursts).</summary>
    public double TargetUtilization { get; init; } = 0.7;

    /// <summary>Seed of the partition-heat simulation, so a plan is reproducible.</summary>
    public int Seed { get; init; } = 20_000;

    /// <summary>Five times the design's 40,000 payments a second: the most the partition-heat simulation is asked to run.</summary>
    public const int MaxSimulatedTransactionsPerSecond = 200_000;

    public IEnumerable<string> Validate()
    {
        // Every field has an upper bound too: the plan's arithmetic stays finite and its work bounded.
        if (MonthlyTransactions is < 0 or > 1_000_000_000_000) yield return "monthlyTransactions must be from 0 to 1,000,000,000,000.";
        if (PeakTransactionsPerSecond <= 0 || PeakTransactionsPerSecond > 10_000_000) yield return "peakTransactionsPerSecond must be from 0 to 10,000,000.";
        if (Organizations is < 1 or > 1_000_000) yield return "organizations must be from 1 to 1,000,000 (the simulation draws every organization's arrivals).";
        if (WriteShards is < 1 or > Storage.DynamoDb.DynamoDbOptions.MaxWriteShards) yield return $"writeShards must be from 1 to {Storage.DynamoDb.DynamoDbOptions.MaxWriteShards}.";
        if (TargetUtilization is < 0.05 or > 1) yield return "targetUtilization must be from 0.05 to 1.";
        if (PendingShare is < 0 or > 1 || RefundShare is < 0 or > 1 || ReplayShare is < 0 or > 1) yield return "pendingShare, refundShare and replayShare must be from 0 to 1.";
        if (IdempotencyKeyLength is < 1 or > Domain.Payments.IdempotencyRecord.MaxKeyLength) yield return "idempotencyKeyLength must be from 1 to 255.";
        if (ReadsPerPayment is < 0 or > 1_000 || ListPagesPerPayment is < 0 or > 1_000 || CampaignViewsPerPayment is < 0 or > 1_000)
            yield return "readsPerPayment, listPagesPerPayment and campaignViewsPerPayment must be from 0 to 1000.";
        if (SpikeTransactionsPerSecond is < 0 or > 10_000_000) yield return "spikeTransactionsPerSecond must be from 0 to 10,000,000.";
        // The partition-heat simulation runs every simulated payment through the key code (~7 s of CPU at this bound).
        if (PeakTransactionsPerSecond + SpikeTransactionsPerSecond > MaxSimulatedTransactionsPerSecond)
            yield return "peakTransactionsPerSecond and spikeTransactionsPerSecond together must be at most 200,000 (the simulation runs every payment through the key code).";
        if (ExtraBytesPerPayment is < 0 or > 400_000) yield return "extraBytesPerPayment must be from 0 to 400,000 (DynamoDB's item size limit).";
        if (RetentionMonths is < 1 or > 1_200) yield return "retentionMonths must be from 1 to 1200.";
        if (ZipfExponent is < 0 or > 5) yield return "zipfExponent must be from 0 to 5.";
        if (Seed < 0) yield return "seed must not be negative.";
    }
}
