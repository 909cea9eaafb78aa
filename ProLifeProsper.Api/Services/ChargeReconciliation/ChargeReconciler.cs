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
/// idempotency record is created now, exactly as a retry with its key and request would create it (the processor charges a
/// key once, so nothing is charged again). One instance at a time (the <c>charge-reconciliation</c> lease); the checkpoint
/// moves only past charges that are recorded, or that can never be (logged as errors: a donor charged without a payment).
/// </summary>
public sealed class ChargeReconciler(IServiceScopeFactory scopes, WorkerLeases leases, IPaymentGateway gateway, ChargeReconciliationCheckpoint checkpoint,
    IOptions<ChargeReconciliationOptions> options, TimeProvider time, ILogger<ChargeReconciler> logger) : SingleInstanceJob(leases, logger)
{
    protected override string LeaseName => "charge-reconciliation";

    protected override TimeSpan LeaseDuration => TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, options.Value.Interval.Ticks * 5));

    protected override TimeSpan Interval => options.Value.Interval;

    protected override Task<bool> HasWorkAsync(CancellationToken cancellationToken) => Task.FromResult(true);

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        var until = time.GetUtcNow() - options.Value.Grace;
        if (await checkpoint.ReadAsync(cancellationToken) is not { } from)
        {
            from = until - options.Value.FirstLookBack; // the first reconciliation of this database
            await checkpoint.SaveAsync(from, cancellationToken);
        }
        if (until <= from) return;
        using var work = BackgroundTracing.StartWork("charge reconciliation");
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<IPaymentTransactionStore>();
        var payments = scope.ServiceProvider.GetRequiredService<PaymentTransactionService>();
        foreach (var charge in await gateway.ListChargesAsync(from, until, cancellationToken))
        {
            try
            {
                if (await store.FindIdempotencyRecordAsync(charge.OrganizationId, charge.IdempotencyKey, cancellationToken) is not null) continue;
                var created = await payments.CreateAsync(charge.OrganizationId, charge.IdempotencyKey, charge.Request, cancellationToken);
                logger.LogWarning("Charge {Key} of organization {OrganizationId} ({Outcome}) had no payment stored (its request died and was never retried): "
                    + "recorded now as payment {TransactionId}", charge.IdempotencyKey, charge.OrganizationId, charge.Outcome.Status.ToWire(), created.Value.TransactionId);
            }
            catch (DomainException e) when (e.Kind is not DomainErrorKind.Conflict)
            {
                // Can never be recorded as asked (its organization, donor or campaign is gone, the key was reused): an operator must look.
                logger.LogError("Charge {Key} of organization {OrganizationId} has no payment and cannot be recorded ({Problem}): the donor was charged {Amount} {Currency}",
                    charge.IdempotencyKey, charge.OrganizationId, e.Message, charge.Request.AmountMinor, charge.Request.Currency);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // A store or the processor unavailable, a limit, a key in flight: from this charge on again next time.
                logger.LogWarning(e, "Charge reconciliation stopped at charge {Key} of organization {OrganizationId}; it goes on from there next time",
                    charge.IdempotencyKey, charge.OrganizationId);
                await checkpoint.SaveAsync(charge.ChargedAt, cancellationToken);
                return;
            }
        }
        await checkpoint.SaveAsync(until, cancellationToken);
    }
}
