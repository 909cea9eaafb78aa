namespace ProLifeProsper.Api.Infrastructure.Rows;

/// <summary>
/// The Idempotency-Key of a campaign or donor create, committed with the row it created: a retry of that request answers
/// with the same resource instead of creating a second one. Payments keep their own records (<c>idempotency_records</c>),
/// which travel with them between the payment stores.
/// </summary>
public sealed class IdempotentCreateRow
{
    public Guid OrganizationId { get; set; }
    public string IdempotencyKey { get; set; } = "";
    public string Fingerprint { get; set; } = "";
    public Guid ResourceId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
