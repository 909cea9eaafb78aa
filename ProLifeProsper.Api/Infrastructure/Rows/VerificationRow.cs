namespace ProLifeProsper.Api.Infrastructure.Rows;

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
