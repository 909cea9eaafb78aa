namespace ProLifeProsper.Api.Infrastructure.Rows;

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
