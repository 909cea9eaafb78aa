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

    /// <summary>Until when a drain holds the row (<see cref="Routing.OutboxLease"/>); no other drain takes it before.</summary>
    public DateTimeOffset? LeasedUntil { get; set; }

    /// <summary>Which claim holds the lease: a drain settles only rows still leased to it.</summary>
    public Guid? LeaseToken { get; set; }

    /// <summary>
    /// Not stored: the last moment (<see cref="System.Diagnostics.Stopwatch"/> timestamp) at which this claim may send a
    /// write of the row that cannot be taken back; null when the claim has no lease (a locked drain), which sends none.
    /// </summary>
    public long? SendBy { get; set; }

    /// <summary>Not stored: an unconditional write of the row was sent under this claim (it keeps its lease if the drain is cut off).</summary>
    public bool PutSent { get; set; }
}
