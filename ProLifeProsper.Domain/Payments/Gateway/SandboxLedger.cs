using System.Collections.Concurrent;
using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Domain.Payments;

/// <summary>
/// What the sandbox processor did, the way a real processor's books would show it: one charge per (organization,
/// idempotency key) and one refund per refund id, however often either is asked for. Tests read it to prove that no retry,
/// race or crash moved money twice; replicas that should behave as one processor share one instance. In memory, so it
/// grows with the sandbox's traffic (about 200 bytes a payment) until the process restarts.
/// </summary>
/// <param name="time">When charges are made (the API's clock; null: the system's).</param>
public sealed class SandboxLedger(TimeProvider? time = null)
{
    private readonly ConcurrentDictionary<(Guid OrganizationId, string Key), Charge> _charges = new();
    private readonly ConcurrentDictionary<Guid, Refund> _refunds = new();

    /// <summary>One charge the processor made (a repeat of its key returns it instead of charging again).</summary>
    public sealed record Charge(Guid OrganizationId, string IdempotencyKey, string Fingerprint, GatewayOutcome Outcome, PaymentRequest Request, DateTimeOffset ChargedAt)
    {
        public long AmountMinor => Request.AmountMinor;

        public string Currency => Request.Currency;
    }

    /// <summary>One refund the processor paid out, against the payment it refunds.</summary>
    public sealed record Refund(Guid RefundId, Guid TransactionId, long AmountMinor);

    public IReadOnlyCollection<Charge> Charges => _charges.Values.ToList();

    public IReadOnlyCollection<Refund> Refunds => _refunds.Values.ToList();

    /// <summary>Total refunded at the processor for one payment.</summary>
    public long RefundedFor(Guid transactionId) => _refunds.Values.Where(r => r.TransactionId == transactionId).Sum(r => r.AmountMinor);

    /// <summary>Charges once per key; the same key with another request is refused, as processors do.</summary>
    public GatewayOutcome ChargeOnce(Guid organizationId, string idempotencyKey, PaymentRequest request, Func<GatewayOutcome> decide)
    {
        var fingerprint = request.Fingerprint();
        var charge = _charges.GetOrAdd((organizationId, idempotencyKey),
            _ => new Charge(organizationId, idempotencyKey, fingerprint, decide(), request, (time ?? TimeProvider.System).GetUtcNow()));
        if (charge.Fingerprint != fingerprint) throw DomainErrors.IdempotencyKeyReused();
        return charge.Outcome;
    }

    /// <summary>The charge made under this key for this same request, if any.</summary>
    public Charge? FindCharge(Guid organizationId, string idempotencyKey, PaymentRequest request) =>
        _charges.TryGetValue((organizationId, idempotencyKey), out var charge) && charge.Fingerprint == request.Fingerprint() ? charge : null;

    /// <summary>
    /// Pays a refund once per <paramref name="refundId"/>; a repeat is a no-op. It does not refuse to pay out more than the
    /// payment: the ledger records what it was asked to do, so a test sees an over-refund instead of it being hidden here.
    /// </summary>
    public void RefundOnce(PaymentTransaction payment, Guid refundId, long amountMinor)
    {
        var refund = _refunds.GetOrAdd(refundId, _ => new Refund(refundId, payment.TransactionId, amountMinor));
        if (refund.AmountMinor != amountMinor || refund.TransactionId != payment.TransactionId)
            throw new InvalidOperationException($"Refund {refundId} was first asked for {refund.AmountMinor} of {refund.TransactionId}.");
    }
}
