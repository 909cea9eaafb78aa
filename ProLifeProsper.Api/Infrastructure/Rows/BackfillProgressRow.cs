namespace ProLifeProsper.Api.Infrastructure.Rows;

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
