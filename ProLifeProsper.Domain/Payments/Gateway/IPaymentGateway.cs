namespace ProLifeProsper.Domain.Payments;

/// <summary>
/// The payment processor. Calls carry the organization's idempotency key so that a retried request
/// never charges twice at the processor either (as Stripe-like processors accept).
/// </summary>
public interface IPaymentGateway
{
    /// <summary>
    /// Charges the payment method; unknown or unusable methods raise a 422 domain error. Called without the request's token
    /// (a charge that has started is seen through, whether or not the client waits), so an implementation bounds its own
    /// call (for an HTTP processor, the resilience handler's total time-out) and throws when it gives up.
    /// </summary>
    ValueTask<GatewayOutcome> ChargeAsync(Guid organizationId, string idempotencyKey, PaymentRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// The outcome of a charge the processor already made under this key for this same request (a retry after a lost
    /// answer), or null when it never charged it. Asks; charges nothing.
    /// </summary>
    ValueTask<GatewayOutcome?> FindChargeAsync(Guid organizationId, string idempotencyKey, PaymentRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// The charges the processor made from <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive), oldest
    /// first: its own books, which the charge reconciliation compares with the stored payments (a charge whose request died
    /// before its payment was stored, and whose client never retried, is found there).
    /// </summary>
    ValueTask<IReadOnlyList<ProcessorCharge>> ListChargesAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    /// <summary>Asks whether a pending payment has settled yet; <see cref="GatewayOutcome.Pending"/> when not.</summary>
    ValueTask<GatewayOutcome> GetSettlementAsync(PaymentTransaction payment, CancellationToken cancellationToken);

    /// <summary>
    /// Returns money to the donor. <paramref name="refundId"/> is the processor's idempotency key for the refund: asking
    /// again with the same id pays nothing more (a retry after a lost answer or a crash is safe).
    /// </summary>
    ValueTask RefundAsync(PaymentTransaction payment, Guid refundId, long amountMinor, CancellationToken cancellationToken);
}
