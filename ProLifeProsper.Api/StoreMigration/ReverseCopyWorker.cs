using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Infrastructure.Telemetry;
using ProLifeProsper.Api.Infrastructure.Leases;

namespace ProLifeProsper.Api.StoreMigration;

/// <summary>
/// Runs the reverse copy of a rollback from <c>dynamo-only</c> on one instance at a time (the <c>reverse-copy</c> lease),
/// and when it is done finishes the rollback the operator asked for. Both are decided from persisted state: if this
/// instance dies between the two, the next one to look finishes the rollback.
/// </summary>
public sealed class ReverseCopyWorker(WorkerLeases leases, ReverseCopy reverseCopy, MigrationCoordinator coordinator,
    IOptions<MigrationOptions> options, ILogger<ReverseCopyWorker> logger) : SingleInstanceJob(leases, logger)
{
    protected override string LeaseName => ReverseCopy.LeaseName;

    protected override TimeSpan LeaseDuration => options.Value.CopyLeaseDuration;

    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(500);

    protected override Task<bool> HasWorkAsync(CancellationToken cancellationToken) => Task.FromResult(reverseCopy.IsOwed);

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("Reverse copy running on this instance");
        if (await reverseCopy.RunAsync(RenewAsync, cancellationToken))
        {
            using var work = BackgroundTracing.StartWork("rollback finish");
            await coordinator.RollbackAsync(MigrationCoordinator.ReverseCopyDone, cancellationToken);
        }
    }
}
