namespace ProLifeProsper.Api.Infrastructure.Rows;

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
