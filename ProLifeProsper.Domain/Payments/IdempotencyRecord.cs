namespace ProLifeProsper.Domain.Payments;

/// <summary>
/// The remembered outcome of a write made with an <c>Idempotency-Key</c>, scoped to one organization.
/// Stores write it in the same atomic step as the change it describes, so a retry replays exactly
/// the first response (<see cref="ResponseJson"/>) and never repeats the change.
/// </summary>
public sealed record IdempotencyRecord(
    Guid OrganizationId,
    string Key,
    string Fingerprint,
    Guid ResourceId,
    string ResponseJson,
    DateTimeOffset CreatedAt)
{
    public const int MaxKeyLength = 255;

    /// <summary>The record a create leaves: the payment, as its response, under the payment's own key.</summary>
    public static IdempotencyRecord OfCreate(PaymentTransaction payment, string fingerprint) =>
        new(payment.OrganizationId, payment.IdempotencyKey, fingerprint, payment.TransactionId, PaymentSnapshotJson.Serialize(payment), payment.CreatedAt);
}
