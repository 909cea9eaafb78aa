namespace ProLifeProsper.Api.Infrastructure.Rows;

/// <summary>
/// A refund pay-out owed to a donor, written before the refund itself and removed once the processor has paid it (or the
/// refund turned out never to have been recorded). What is left behind by a request cut off between recording a refund and
/// paying it out is found here by <see cref="RefundPayoutWorker"/>, so the donor is paid even if the client never retries.
/// </summary>
public sealed class RefundPayoutRow
{
    public Guid RefundId { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid TransactionId { get; set; }
    public string IdempotencyKey { get; set; } = "";
    public DateTimeOffset OwedAt { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    public string? LastError { get; set; }
}
