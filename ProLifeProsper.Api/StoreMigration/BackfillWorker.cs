using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Infrastructure.Telemetry;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.Infrastructure.Leases;

namespace ProLifeProsper.Api.StoreMigration;

/// <summary>Runs the backfill on one instance at a time (the <c>backfill</c> lease), resuming from its checkpoint after any interruption.</summary>
public sealed class BackfillWorker(WorkerLeases leases, RoutingStateCache routing, Backfill backfill,
    MigrationCoordinator coordinator, IOptions<MigrationOptions> options, ILogger<BackfillWorker> logger) : SingleInstanceJob(leases, logger)
{
    protected override string LeaseName => Backfill.LeaseName;

    protected override TimeSpan LeaseDuration => options.Value.CopyLeaseDuration;

    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(500);

    protected override async Task<bool> HasWorkAsync(CancellationToken cancellationToken) =>
        routing.Current.Phase is MigrationPhase.DualWrite or MigrationPhase.Backfill && !(await backfill.ReadProgressAsync(cancellationToken)).IsComplete;

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        if (routing.Current.Phase == MigrationPhase.DualWrite)
        {
            using var work = BackgroundTracing.StartWork("backfill start");
            await coordinator.EnterBackfillAsync(cancellationToken);
        }
        logger.LogInformation("Backfill running on this instance");
        await backfill.RunAsync(RenewAsync, cancellationToken);
    }
}
