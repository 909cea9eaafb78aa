using System.Collections.Concurrent;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Tests.Infrastructure;

/// <summary>
/// The sandbox processor behind a line that can fail on command: the processor acts (its ledger records the charge or the
/// refund) and then the answer is lost (a reset connection), the fault that tempts a system into doing it twice. It can
/// also hold chosen payments pending at settlement, and counts how often each payment's settlement was asked for.
/// Faults are per organization, so tests sharing an API do not see each other's.
/// </summary>
public sealed class LostAnswerGateway(SandboxPaymentGateway sandbox) : IPaymentGateway
{
    private readonly ConcurrentDictionary<(Guid OrganizationId, string Operation), int> _toLose = new();
    private readonly ConcurrentDictionary<(Guid OrganizationId, string Operation), int> _unreachable = new();
    private readonly ConcurrentDictionary<Guid, byte> _heldPending = new();
    private readonly ConcurrentDictionary<Guid, byte> _settlementRefused = new();
    private readonly ConcurrentDictionary<Guid, int> _settlementAsks = new();
    private readonly ConcurrentDictionary<Guid, HeldCharge> _holdAfterCharge = new();
    private readonly ConcurrentDictionary<Guid, int> _chargeLookups = new();

    /// <summary>How often the organization's charges were looked up (<see cref="FindChargeAsync"/>).</summary>
    public int ChargeLookups(Guid organizationId) => _chargeLookups.GetValueOrDefault(organizationId);

    public SandboxLedger Ledger => sandbox.Ledger;

    /// <summary>The next <paramref name="operation"/> ("charge" or "refund") of the organization acts, then fails as if the connection reset.</summary>
    public void LoseNextAnswer(Guid organizationId, string operation) => _toLose[(organizationId, operation)] = 1;

    /// <summary>The next <paramref name="operation"/> of the organization fails before it reaches the processor (nothing happens there).</summary>
    public void FailNextBeforeActing(Guid organizationId, string operation) => _unreachable[(organizationId, operation)] = 1;

    /// <summary>The processor keeps this payment pending, however often it is asked.</summary>
    public void HoldPending(Guid transactionId) => _heldPending[transactionId] = 0;

    /// <summary>The processor fails every settlement look-up of this payment (as for a transfer it does not know), however often asked.</summary>
    public void RefuseSettlement(Guid transactionId) => _settlementRefused[transactionId] = 0;

    /// <summary>The next charge of the organization is made, then its answer waits until the test releases it.</summary>
    public HeldCharge HoldNextChargeAnswer(Guid organizationId) => _holdAfterCharge[organizationId] = new HeldCharge();

    public sealed class HeldCharge
    {
        private readonly TaskCompletionSource _charged = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes once the processor has charged.</summary>
        public Task Charged => _charged.Task;

        public void Release() => _released.TrySetResult();

        internal async Task HoldAsync()
        {
            _charged.TrySetResult();
            await _released.Task.WaitAsync(TimeSpan.FromSeconds(30)); // never the caller's token: the charge is made either way
        }
    }

    public int SettlementAsks(Guid transactionId) => _settlementAsks.GetValueOrDefault(transactionId);

    public async ValueTask<GatewayOutcome> ChargeAsync(Guid organizationId, string idempotencyKey, PaymentRequest request, CancellationToken cancellationToken)
    {
        var outcome = await sandbox.ChargeAsync(organizationId, idempotencyKey, request, cancellationToken);
        if (_holdAfterCharge.TryRemove(organizationId, out var held)) await held.HoldAsync();
        LoseAnswerIfAsked(organizationId, "charge");
        return outcome;
    }

    public ValueTask<GatewayOutcome?> FindChargeAsync(Guid organizationId, string idempotencyKey, PaymentRequest request, CancellationToken cancellationToken)
    {
        _chargeLookups.AddOrUpdate(organizationId, 1, (_, n) => n + 1);
        return sandbox.FindChargeAsync(organizationId, idempotencyKey, request, cancellationToken);
    }

    public ValueTask<GatewayOutcome> GetSettlementAsync(PaymentTransaction payment, CancellationToken cancellationToken)
    {
        _settlementAsks.AddOrUpdate(payment.TransactionId, 1, (_, n) => n + 1);
        if (_settlementRefused.ContainsKey(payment.TransactionId))
            throw new HttpRequestException("The processor answered 404 for this transfer (test fault).");
        return _heldPending.ContainsKey(payment.TransactionId) ? ValueTask.FromResult(GatewayOutcome.Pending) : sandbox.GetSettlementAsync(payment, cancellationToken);
    }

    public ValueTask<IReadOnlyList<ProcessorCharge>> ListChargesAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        sandbox.ListChargesAsync(from, to, cancellationToken);

    public async ValueTask RefundAsync(PaymentTransaction payment, Guid refundId, long amountMinor, CancellationToken cancellationToken)
    {
        if (_unreachable.TryRemove((payment.OrganizationId, "refund"), out _))
            throw new HttpRequestException("The processor could not be reached for the refund (test fault).");
        await sandbox.RefundAsync(payment, refundId, amountMinor, cancellationToken);
        LoseAnswerIfAsked(payment.OrganizationId, "refund");
    }

    private void LoseAnswerIfAsked(Guid organizationId, string operation)
    {
        if (_toLose.TryRemove((organizationId, operation), out _))
            throw new HttpRequestException($"The connection to the processor was reset after the {operation} (test fault).");
    }
}
