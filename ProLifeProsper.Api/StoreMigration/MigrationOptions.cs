namespace ProLifeProsper.Api.StoreMigration;

/// <summary>
/// Configuration section <c>Migration</c>: the store migration's settings. The routing state's freshness settings in the same
/// section (<c>RoutingPollInterval</c>, <c>RoutingLease</c>) are <see cref="Routing.RoutingStateOptions"/>.
/// </summary>
public sealed class MigrationOptions
{
    public const string SectionName = "Migration";

    /// <summary>Backfill rate limit, so copying history cannot starve live traffic (items per second).</summary>
    public int BackfillItemsPerSecond { get; set; } = 2_000;

    /// <summary>
    /// Backfill writes per second to any one organization (the partition key of both DynamoDB tables; a partition takes 1,000
    /// write units a second, a copied payment costs ~2 with its index entries): the rest is left to that organization's live writes.
    /// </summary>
    public int BackfillItemsPerSecondPerOrganization { get; set; } = 300;

    /// <summary>Payments read from PostgreSQL per backfill batch (one checkpoint per batch).</summary>
    public int BackfillBatchSize { get; set; } = 200;

    /// <summary>How often the outbox is drained when nothing wakes it.</summary>
    public TimeSpan OutboxPollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// After a drain that found rows, how long the drainer lets the next ones gather before it claims them: under load one
    /// claim then carries a batch's worth of writes instead of the one or two that arrived during the last round trip. An
    /// idle outbox is still drained as soon as a write wakes it.
    /// </summary>
    public TimeSpan OutboxBatchWindow { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// How long an outbox intent may wait for its DynamoDB write (longer than any write can take, retries
    /// included); an intent whose write never arrived within it is dropped (the write was never acknowledged).
    /// </summary>
    public TimeSpan IntentGrace { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long the lease of a bulk copy (backfill, reverse copy) lasts without renewal: after a crash, another instance
    /// resumes from the checkpoint this long after the holder's last renewal (it renews every batch).
    /// </summary>
    public TimeSpan CopyLeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a verification waits for the writes queued for DynamoDB when it starts (rows in retry backoff, rows another
    /// instance is applying) before it compares the stores.
    /// </summary>
    public TimeSpan VerifyCatchUpTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a rollback waits for in-flight writes to reach PostgreSQL before it answers.</summary>
    public TimeSpan RollbackDrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Cut-over (by an operator or the reconciler) only after a passing load test of <c>dynamo-primary</c> against this build was
    /// submitted (<c>POST /api/admin/migration/load-tests</c>, the load-test tool's <c>--submit-to</c>) within <see cref="LoadTestMaxAge"/>.
    /// </summary>
    public bool CutoverRequiresLoadTest { get; set; }

    /// <summary>How old a load test may be and still open the cut-over gate.</summary>
    public TimeSpan LoadTestMaxAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The error rate above which a load test fails the cut-over gate, whatever thresholds it was run with.</summary>
    public double LoadTestMaxErrorRate { get; set; } = 0.01;
}
