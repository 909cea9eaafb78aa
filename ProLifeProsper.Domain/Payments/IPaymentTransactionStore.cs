using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Domain.Payments;

/// <summary>
/// Where payment transactions live. Every implementation (PostgreSQL, DynamoDB) passes the same
/// contract test suite and raises the same <see cref="Common.DomainException"/>s, so services and
/// endpoints never know which store served them.
/// </summary>
public interface IPaymentTransactionStore
{
    /// <summary>Short store name used in metrics and health ("postgresql", "dynamodb").</summary>
    string Name { get; }

    /// <summary>
    /// Throws (a retryable refusal) when a write could not be taken now, so that a caller that must act before it writes
    /// (charge a card) does not act for a payment the store would refuse.
    /// </summary>
    Task EnsureWritableAsync(CancellationToken cancellationToken);

    /// <summary>The record remembered for an organization's idempotency key, if any.</summary>
    Task<IdempotencyRecord?> FindIdempotencyRecordAsync(Guid organizationId, string key, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="payment"/> together with <paramref name="record"/>, atomically. When the key
    /// is already taken nothing is written and the record already stored is returned instead; the caller
    /// compares fingerprints (replay or 422).
    /// </summary>
    Task<IdempotencyRecord> CreateAsync(PaymentTransaction payment, IdempotencyRecord record, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the payment with <paramref name="updated"/> if the stored version is still
    /// <c>updated.Version - 1</c>, writing <paramref name="record"/> in the same step when given.
    /// Returns the record in effect (ours, or the one already stored under that key, in which case nothing
    /// was written). Raises a concurrent-update conflict when the version moved on.
    /// </summary>
    Task<IdempotencyRecord?> UpdateAsync(PaymentTransaction updated, IdempotencyRecord? record, CancellationToken cancellationToken);

    Task<PaymentTransaction?> GetAsync(Guid organizationId, Guid transactionId, CancellationToken cancellationToken);

    Task<Page<PaymentTransaction>> ListAsync(PaymentListQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Pending payments of every organization created before <paramref name="createdBefore"/> and after
    /// <paramref name="after"/> (the last one of the previous page), oldest first, each as its latest state: paging on
    /// past payments the processor still holds keeps them from blocking the ones behind them.
    /// </summary>
    Task<IReadOnlyList<PaymentTransaction>> GetPendingAsync(DateTimeOffset createdBefore, PageCursor? after, int limit, CancellationToken cancellationToken);

    /// <summary>Captured payments per UTC hour and currency, for hours in [from, to).</summary>
    Task<IReadOnlyList<HourlyPaymentTotal>> GetHourlyTotalsAsync(Guid organizationId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    /// <summary>Net raised amount and donation count for each of the given campaigns (missing ones are zero).</summary>
    Task<IReadOnlyDictionary<Guid, CampaignTotals>> GetCampaignTotalsAsync(Guid organizationId, IReadOnlyCollection<Guid> campaignIds, CancellationToken cancellationToken);
}
