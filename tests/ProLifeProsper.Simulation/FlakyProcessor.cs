using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Simulation;

/// <summary>
/// The sandbox processor behind a line that fails, seeded: a charge or a refund may fail before it reaches the processor
/// (nothing happens there) or have its answer lost after the processor acted. Shared by every instance, like the ledger.
/// A refund that fails this way is recorded but not paid: its client retries, or gives up and the pay-out sweeper pays it.
/// </summary>
public sealed class FlakyProcessor(SandboxLedger ledger, int seed) : IPaymentGateway
{
    private const double FailBeforeActing = 0.03;
    private const double LoseAnswer = 0.03;
    private readonly SandboxPaymentGateway _sandbox = new(ledger);
    private readonly Random _dice = new(seed);
    private long _failedBeforeActing;
    private long _lostAnswers;

    public long FailedBeforeActing => Interlocked.Read(ref _failedBeforeActing);

    public long LostAnswers => Interlocked.Read(ref _lostAnswers);

    public async ValueTask<GatewayOutcome> ChargeAsync(Guid organizationId, string idempotencyKey, PaymentRequest request, CancellationToken cancellationToken)
    {
        var roll = Roll();
        FailIfBefore(roll);
        var outcome = await _sandbox.ChargeAsync(organizationId, idempotencyKey, request, cancellationToken);
        FailIfLost(roll);
        return outcome;
    }

    public ValueTask<GatewayOutcome?> FindChargeAsync(Guid organizationId, string idempotencyKey, PaymentRequest request, CancellationToken cancellationToken) =>
        _sandbox.FindChargeAsync(organizationId, idempotencyKey, request, cancellationToken);

    public ValueTask<GatewayOutcome> GetSettlementAsync(PaymentTransaction payment, CancellationToken cancellationToken) =>
        _sandbox.GetSettlementAsync(payment, cancellationToken);

    public ValueTask<IReadOnlyList<ProcessorCharge>> ListChargesAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        _sandbox.ListChargesAsync(from, to, cancellationToken);

    public async ValueTask RefundAsync(PaymentTransaction payment, Guid refundId, long amountMinor, CancellationToken cancellationToken)
    {
        var roll = Roll();
        FailIfBefore(roll);
        await _sandbox.RefundAsync(payment, refundId, amountMinor, cancellationToken);
        FailIfLost(roll);
    }

    private double Roll()
    {
        lock (_dice) return _dice.NextDouble();
    }

    private void FailIfBefore(double roll)
    {
        if (roll >= FailBeforeActing) return;
        Interlocked.Increment(ref _failedBeforeActing);
        throw new HttpRequestException("The processor could not be reached (simulated).");
    }

    private void FailIfLost(double roll)
    {
        if (roll < FailBeforeActing || roll >= FailBeforeActing + LoseAnswer) return;
        Interlocked.Increment(ref _lostAnswers);
        throw new HttpRequestException("The connection to the processor was reset after it acted (simulated).");
    }
}
