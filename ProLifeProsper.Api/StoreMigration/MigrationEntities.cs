namespace ProLifeProsper.Api.StoreMigration;

/// <summary>The single row of <c>routing_state</c>: the active phase and its version (bumped by every change).</summary>
public sealed class RoutingStateRow
{
    public int Id { get; set; } = 1;
    public string Phase { get; set; } = "postgres";
    public long Version { get; set; } = 1;
    public DateTimeOffset ChangedAt { get; set; }
    public string? ChangedBy { get; set; }

    /// <summary>When the phase became dynamo-only: a rollback copies back everything written since.</summary>
    public DateTimeOffset? FinalizedAt { get; set; }

    /// <summary>
    /// Where payments should live: the <c>Routing:Configuration</c> of the replica that started last with the reconciler on.
    /// One record for all replicas, so during a rolling restart the old replicas' configuration does not fight the new one's.
    /// </summary>
    public string? DesiredConfiguration { get; set; }

    public DateTimeOffset? DesiredAt { get; set; }

    /// <summary>The explicit configuration replicas last started with: a restart with the same one is no new intention.</summary>
    public string? StartedConfiguration { get; set; }
}

/// <summary>Backfill checkpoint and progress (single row), resumable after a crash or restart.</summary>
public sealed class BackfillProgressRow
{
    public int Id { get; set; } = 1;
    public DateTimeOffset? CheckpointCreatedAt { get; set; }
    public Guid? CheckpointTransactionId { get; set; }
    public Guid? CheckpointRecordOrganizationId { get; set; }
    public string? CheckpointRecordKey { get; set; }
    public long Copied { get; set; }
    public bool PaymentsDone { get; set; }
    public long RecordsCopied { get; set; }
    public long Total { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>
    /// The newest payment when dual-write began (taken under the exclusive routing lock): the backfill copies up to
    /// here. Every later write reaches DynamoDB through the outbox, so live traffic cannot keep the backfill from ending.
    /// </summary>
    public DateTimeOffset? HighWaterCreatedAt { get; set; }
    public Guid? HighWaterTransactionId { get; set; }

    /// <summary>The newest idempotency record's creation time when dual-write began: records up to it are copied, later ones travel with their writes.</summary>
    public DateTimeOffset? HighWaterRecordCreatedAt { get; set; }
}

/// <summary>
/// Progress of copying DynamoDB back to PostgreSQL when rolling back from <c>dynamo-only</c> (single row): scan
/// checkpoints, so a crash or restart resumes where it stopped, and the fence time before which the copy may not
/// start (until then a write decided under <c>dynamo-only</c> may still land in DynamoDB).
/// </summary>
public sealed class ReverseCopyProgressRow
{
    public int Id { get; set; } = 1;

    /// <summary>The scan's LastEvaluatedKey over the idempotency table (JSON), or null at the start.</summary>
    public string? RecordsScanKey { get; set; }
    public bool RecordsDone { get; set; }

    /// <summary>The scan's LastEvaluatedKey over the payments table (JSON), or null at the start.</summary>
    public string? PaymentsScanKey { get; set; }
    public long Copied { get; set; }
    public long RecordsCopied { get; set; }
    public DateTimeOffset? FenceUntil { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
}

/// <summary>One run of the stores' comparison.</summary>
public sealed class VerificationRow
{
    public Guid Id { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset CompletedAt { get; set; }
    public long RoutingVersion { get; set; }
    public int Organizations { get; set; }
    public long Payments { get; set; }
    public int MismatchCount { get; set; }
    public long PendingOutbox { get; set; }
    public bool Clean { get; set; }

    /// <summary>The mismatches found (JSON array, at most the first 1,000).</summary>
    public string MismatchesJson { get; set; } = "[]";
}

/// <summary>
/// A payment write still to be applied to the other store. Written in the same PostgreSQL transaction as the
/// write itself (PostgreSQL primary), or before the DynamoDB write as its intent (DynamoDB primary), so no
/// acknowledged write can be missing from the shadow: the row is deleted only once the shadow has it.
/// </summary>
public sealed class OutboxRow
{
    public long Id { get; set; }

    /// <summary><c>dynamodb</c> or <c>postgresql</c>: the store that must receive the write.</summary>
    public string Target { get; set; } = "";
    public Guid OrganizationId { get; set; }
    public Guid TransactionId { get; set; }
    public string? IdempotencyKey { get; set; }

    /// <summary>The version the write produces; the source must have at least this before the row is done.</summary>
    public int ExpectedVersion { get; set; }
    public DateTimeOffset EnqueuedAt { get; set; }

    /// <summary>How long the row has waited, by the database's clock (the one that stamped it), read when it is claimed.</summary>
    public TimeSpan Age { get; set; }

    public int Attempts { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    public string? LastError { get; set; }
}
