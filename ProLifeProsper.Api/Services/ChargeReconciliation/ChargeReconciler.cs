using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Infrastructure.Leases;
using ProLifeProsper.Api.Infrastructure.Telemetry;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Services.ChargeReconciliation;

/// <summary>
/// Compares the processor's books with the stored payments, so that no charge is left out of an organization's payments:
/// one whose request died between the charge and the store write (an instance killed, the processor's answer lost) and
/// whose client never retried. Each charge older than <see cref="ChargeReconciliationOptions.Grace"/> whose key has no
/// idempotency record is recorded as its request would have stored it
/// (<see cref="PaymentTransactionService.RecordProcessorChargeAsync"/>: the processor is never asked to charge again).
/// One instance at a time (the <c>charge-reconciliation</c> lease, renewed as it goes). A charge that cannot be recorded
/// now (a store unavailable, its key in flight) holds the checkpoint for the next run, and the others go on; one that
/// still fails <see cref="GiveUpAfter"/> after it was charged is logged as an error (a donor charged without a payment:
/// an operator must look) and passed, so that one charge cannot hold back every organization's reconciliation.
/// </summary>
public sealed class ChargeReconciler(IServiceScopeFactory scopes, WorkerLeases leases, IPaymentGateway gateway, ChargeReconciliationCheckpoint checkpoint,
    IOptions<ChargeReconciliationOptions> options, TimeProvider time, IMeterFactory meters, ILogger<ChargeReconciler> logger) : SingleInstanceJob(leases, logger)
{
    // What operators watch: "recorded" and "given_back" mean a request died after its charge; "failing" and "abandoned" need a look.
    private readonly Counter<long> _charges = meters.Create(ApiTelemetry.Name).CreateCounter<long>("prolifeprosper.payments.charges_reconciled", "{charge}",
        "Charges the reconciliation found without a payment, by outcome: recorded, given_back (its key held by a refund), already_recorded (stored meanwhile), failing (tried again next run), abandoned (an operator must look).");

    /// <summary>How long after its charge a charge that cannot be recorded is still tried (well within a processor's 24 h memory of keys).</summary>
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromHours(1);

    private const int RenewEvery = 200;

    protected override string LeaseName => "charge-reconciliation";

    protected override TimeSpan LeaseDuration => TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, options.Value.Interval.Ticks * 5));

    protected override TimeSpan Interval => options.Value.Interval;

    protected override Task<bool> HasWorkAsync(CancellationToken cancellationToken) => Task.FromResult(true);

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var until = now - options.Value.Grace;
        if (await checkpoint.ReadAsync(cancellationToken) is not { } from)
        {
            from = until - options.Value.FirstLookBack; // the first reconciliation of this database
            await checkpoint.SaveAsync(from, cancellationToken);
        }
        if (until <= from) return;
        // Traced from the first charge that has no payment: a run that finds every charge recorded is a poll, not work.
        BackgroundWork? work = null;
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<IPaymentTransactionStore>();
        var payments = scope.ServiceProvider.GetRequiredService<PaymentTransactionService>();
        try
        {
            DateTimeOffset? firstUnrecorded = null;
            var looked = 0;
            foreach (var charge in await gateway.ListChargesAsync(from, until, cancellationToken))
            {
                if (++looked % RenewEvery == 0 && !await RenewAsync(cancellationToken)) return; // another instance took over
                try
                {
                    // A key a refund holds: the charge is this request's own, and is given back (once: the ids come from the key).
                    if (await store.FindIdempotencyRecordAsync(charge.OrganizationId, charge.IdempotencyKey, cancellationToken) is { } record
                        && !PaymentSnapshotJson.IsRefund(record.ResponseJson)) continue;
                    work ??= BackgroundTracing.StartWork("charge reconciliation");
                    var outcome = await payments.RecordProcessorChargeAsync(charge, cancellationToken);
                    Count(outcome);
                    if (outcome == "recorded")
                        logger.LogWarning("Charge {Key} of organization {OrganizationId} ({Outcome}, {Amount} {Currency}) had no payment stored (its request died and was never retried): recorded now",
                            charge.IdempotencyKey, charge.OrganizationId, charge.Outcome.Status.ToWire(), charge.Request.AmountMinor, charge.Request.Currency);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    if (now - charge.ChargedAt < GiveUpAfter)
                    {
                        logger.LogWarning(e, "Charge {Key} of organization {OrganizationId} could not be recorded yet; tried again next run", charge.IdempotencyKey, charge.OrganizationId);
                        Count("failing");
                        firstUnrecorded ??= charge.ChargedAt;
                    }
                    else
                    {
                        logger.LogError(e, "Charge {Key} of organization {OrganizationId} has no payment and could not be recorded for {Hours} h: the donor was charged {Amount} {Currency}; "
                            + "an operator must record or refund it", charge.IdempotencyKey, charge.OrganizationId, GiveUpAfter.TotalHours, charge.Request.AmountMinor, charge.Request.Currency);
                        Count("abandoned");
                    }
                }
            }
            await checkpoint.SaveAsync(firstUnrecorded ?? until, cancellationToken);
        }
        finally
        {
            work?.Dispose();
        }
    }

    private void Count(string outcome) => _charges.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
