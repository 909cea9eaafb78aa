namespace ProLifeProsper.Api.Infrastructure.Rows;

/// <summary>
/// Who runs a once-per-deployment job (backfill, reverse copy, settlement) until when. A row, not a session advisory
/// lock: it needs no connection held open, survives pooled connections that are never reset, expires by itself when its
/// holder dies, and shows operators who holds what.
/// </summary>
public sealed class WorkerLeaseRow
{
    public string Name { get; set; } = "";
    public string Holder { get; set; } = "";
    public DateTimeOffset ExpiresAt { get; set; }
}
