namespace ProLifeProsper.Api.Apis.Contracts;

// The store migration's status, as GET /api/admin/routing and /api/admin/migration answer it (and the operator CLI prints it).

/// <summary>What <c>GET /api/admin/routing</c> answers.</summary>
public sealed record RoutingStatus(string Configuration, string Phase, long Version, DateTimeOffset ChangedAt, string PaymentsStore,
    string? ShadowStore, DateTimeOffset? FinalizedAt);

/// <summary>What <c>GET /api/admin/migration</c> answers (<see cref="Reconciler"/>: where <c>Routing:Configuration</c> wants payments, and the next step there).</summary>
public sealed record MigrationStatus(RoutingStatus Routing, BackfillProgress Backfill, IReadOnlyDictionary<string, long> OutboxDepth,
    VerificationResult? LastVerification, ReverseCopyProgress ReverseCopy, ReconcilerStatus? Reconciler = null, string? ApiVersion = null);

/// <summary>What a rollback step did: <see cref="Finished"/> false while DynamoDB is still being copied back (it then finishes by itself).</summary>
public sealed record RollbackResult(RoutingStatus Routing, bool Finished);

/// <summary>Backfill progress as operators see it.</summary>
public sealed record BackfillProgress(
    long Copied, long Total, long RecordsCopied, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt,
    DateTimeOffset? CheckpointCreatedAt, Guid? CheckpointTransactionId, double ItemsPerSecond, double? EtaSeconds)
{
    public bool IsComplete => CompletedAt is not null;
}

/// <summary>Reverse-copy progress as operators see it.</summary>
public sealed record ReverseCopyProgress(long Copied, long RecordsCopied, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, DateTimeOffset? FenceUntil)
{
    public bool IsComplete => CompletedAt is not null;
}

/// <summary>One difference between the stores.</summary>
public sealed record VerificationMismatch(Guid OrganizationId, string Kind, Guid? TransactionId, string Detail);

/// <summary>The outcome of comparing the stores.</summary>
public sealed record VerificationResult(
    Guid Id, DateTimeOffset StartedAt, DateTimeOffset CompletedAt, long RoutingVersion, int Organizations, long Payments,
    long PendingOutbox, bool Clean, IReadOnlyList<VerificationMismatch> Mismatches);

/// <summary>What the reconciler sees: where payments should be, whether they are there, its next step and what that waits for.</summary>
public sealed record ReconcilerStatus(bool Enabled, string? Target, DateTimeOffset? TargetSince, bool Reached, string? NextStep, string? WaitingFor,
    string? LastOutcome, DateTimeOffset? LastStepAt);
