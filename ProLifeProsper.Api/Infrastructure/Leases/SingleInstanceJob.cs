using ProLifeProsper.Api.Infrastructure.Telemetry;

namespace ProLifeProsper.Api.Infrastructure.Leases;

/// <summary>
/// Background work that one instance at a time should do (backfill, reverse copy, settlement): every
/// <see cref="Interval"/> each instance asks whether there is work, and the one that gets the lease does it, renewing the
/// lease as it goes (<see cref="WorkerLeases.TryAcquireAsync"/>) and releasing it when it stops, so after an interruption
/// the next instance to look carries on at once, or when a dead holder's lease expires.
/// <para>
/// Every turn runs <see cref="BackgroundTracing.Quiet"/>: asking, taking the lease and an idle run leave no trace. A job
/// traces its own units of work with <see cref="BackgroundTracing.StartWork"/> (a page settled, a batch copied, a step taken).
/// </para>
/// </summary>
public abstract class SingleInstanceJob(WorkerLeases leases, ILogger logger) : BackgroundService
{
    protected abstract string LeaseName { get; }

    protected abstract TimeSpan LeaseDuration { get; }

    protected abstract TimeSpan Interval { get; }

    /// <summary>Whether there is work now (checked before the lease is asked for).</summary>
    protected abstract Task<bool> HasWorkAsync(CancellationToken cancellationToken);

    /// <summary>Does the work while holding the lease; renews it with <see cref="RenewAsync"/> and stops when that fails.</summary>
    protected abstract Task RunAsync(CancellationToken cancellationToken);

    /// <summary>Keeps the lease; false when another instance has taken it over (this one stalled): stop then.</summary>
    protected Task<bool> RenewAsync(CancellationToken cancellationToken) => leases.TryAcquireAsync(LeaseName, LeaseDuration, cancellationToken);

    /// <summary>Extends the lease only if this instance has held it without a break; never takes it again.</summary>
    protected Task<bool> KeepAsync(CancellationToken cancellationToken) => leases.TryRenewAsync(LeaseName, LeaseDuration, cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            using var quiet = BackgroundTracing.Quiet();
            var held = false;
            try
            {
                if (!await HasWorkAsync(stoppingToken)) continue;
                held = await RenewAsync(stoppingToken);
                if (held) await RunAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "{Job} interrupted; it carries on from its checkpoint", LeaseName);
            }
            finally
            {
                if (held) await ReleaseAsync();
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task ReleaseAsync()
    {
        try
        {
            await leases.ReleaseAsync(LeaseName, CancellationToken.None);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or ObjectDisposedException)
        {
            // ObjectDisposedException: the host is going down under this job (a stop without grace); the lease expires all the same.
            logger.LogWarning(e, "Could not release the {Job} lease; it expires by itself", LeaseName);
        }
    }
}
