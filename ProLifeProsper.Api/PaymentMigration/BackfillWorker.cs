using Npgsql;

namespace ProLifeProsper.Api.PaymentMigration;

/// <summary>
/// Runs the backfill on exactly one instance (a PostgreSQL session advisory lock elects it); if that instance
/// dies, the lock is released with its connection and another instance resumes from the checkpoint.
/// </summary>
public sealed class BackfillWorker(NpgsqlDataSource dataSource, RoutingStateCache routing, Backfill backfill,
    MigrationCoordinator coordinator, ILogger<BackfillWorker> logger) : BackgroundService
{
    private const long LockKey = 0x504C_5042_4B46_494C; // "PLPBKFIL"

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (routing.Current.Phase is not (MigrationPhase.DualWrite or MigrationPhase.Backfill)) continue;
                if ((await backfill.ReadProgressAsync(stoppingToken)).IsComplete) continue;

                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                await using (var tryLock = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey})", connection))
                    if (!(bool)(await tryLock.ExecuteScalarAsync(stoppingToken))!) continue; // another instance runs it

                if (routing.Current.Phase == MigrationPhase.DualWrite) await coordinator.EnterBackfillAsync(stoppingToken);
                logger.LogInformation("Backfill running on this instance");
                await backfill.RunAsync(stoppingToken);
                // Closing the connection releases the session lock.
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Backfill interrupted; it resumes from its checkpoint");
            }
        }
    }
}
