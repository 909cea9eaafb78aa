using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Domain.Payments;

/// <summary>
/// A deterministic test processor (no money moves). Its tokens behave like a real processor's test
/// tokens: <c>tok_visa</c> succeeds, <c>tok_chargeDeclined</c> and <c>tok_insufficientFunds</c> fail,
/// <c>tok_bankTransfer</c> stays pending until the settlement worker settles it. Other tokens are refused.
/// Like a real processor it is idempotent: a charge is made once per idempotency key and a refund once per refund
/// id, and its <see cref="Ledger"/> shows what it did.
/// </summary>
public sealed class SandboxPaymentGateway(SandboxLedger ledger) : IPaymentGateway
{
    public const string Visa = "tok_visa";
    public const string ChargeDeclined = "tok_chargeDeclined";
    public const string InsufficientFunds = "tok_insufficientFunds";
    public const string BankTransfer = "tok_bankTransfer";

    public SandboxLedger Ledger => ledger;

    public ValueTask<GatewayOutcome> ChargeAsync(Guid organizationId, string idempotencyKey, PaymentRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ledger.ChargeOnce(organizationId, idempotencyKey, request, () => Decide(request)));

    public ValueTask<GatewayOutcome?> FindChargeAsync(Guid organizationId, string idempotencyKey, PaymentRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ledger.FindCharge(organizationId, idempotencyKey, request)?.Outcome);

    public ValueTask<IReadOnlyList<ProcessorCharge>> ListChargesAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<ProcessorCharge>>(ledger.Charges
            .Where(c => c.ChargedAt >= from && c.ChargedAt < to).OrderBy(c => c.ChargedAt)
            .Select(c => new ProcessorCharge(c.OrganizationId, c.IdempotencyKey, c.Request, c.Outcome, c.ChargedAt)).ToList());

    private static GatewayOutcome Decide(PaymentRequest request) =>
        (request.PaymentMethodType, request.PaymentMethodToken) switch
        {
            (PaymentMethodType.Card, Visa) => GatewayOutcome.Succeeded,
            (PaymentMethodType.Card, ChargeDeclined) => GatewayOutcome.Failed("card_declined"),
            (PaymentMethodType.Card, InsufficientFunds) => GatewayOutcome.Failed("insufficient_funds"),
            (PaymentMethodType.BankTransfer, BankTransfer) => GatewayOutcome.Pending,
            _ => throw new DomainException(DomainErrorKind.Unprocessable, "payment-method-invalid",
                "The payment method was not accepted.",
                $"The sandbox gateway knows no such {request.PaymentMethodType.ToWire()} token (tokens are not repeated back: one may be card data). " +
                $"Use {Visa}, {ChargeDeclined}, {InsufficientFunds} (card) or {BankTransfer} (bank_transfer)."),
        };

    // Sandbox bank transfers always clear; the worker decides when (after the configured delay).
    public ValueTask<GatewayOutcome> GetSettlementAsync(PaymentTransaction payment, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GatewayOutcome.Succeeded);

    public ValueTask RefundAsync(PaymentTransaction payment, Guid refundId, long amountMinor, CancellationToken cancellationToken)
    {
        ledger.RefundOnce(payment, refundId, amountMinor);
        return ValueTask.CompletedTask;
    }
}
