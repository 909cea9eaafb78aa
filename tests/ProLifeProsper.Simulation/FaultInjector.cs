using Npgsql;

namespace ProLifeProsper.Simulation;

/// <summary>
/// Faults beyond DynamoDB's (which the hostile profile injects on every call): PostgreSQL connections killed
/// (<c>pg_terminate_backend</c> on every backend of the simulation's database), the PostgreSQL server crashed (SIGKILL)
/// and restarted after a second or two, and API instances restarted under load.
/// </summary>
public sealed class FaultInjector(World world, Deployment deployment, Random random)
{
    public async Task RunAsync(CancellationToken stop)
    {
        await using var dataSource = NpgsqlDataSource.Create(deployment.ConnectionString);
        var faults = 0;
        while (!stop.IsCancellationRequested)
        {
            try { await Task.Delay(random.Next(2_000, 5_000), stop); }
            catch (OperationCanceledException) { return; }
            // The fourth fault is always a server crash, so even a short run (the CI seeds) has one.
            var roll = ++faults == 4 ? 50 : random.Next(100);
            try
            {
                if (roll < 45)
                {
                    await using var kill = dataSource.CreateCommand(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
                    var killed = (long)(await kill.ExecuteScalarAsync(CancellationToken.None))!;
                    world.Count("faults.postgres-connections-killed", killed);
                    world.Count("faults.postgres-kills");
                    world.Event($"killed {killed} PostgreSQL connections");
                }
                else if (roll < 55)
                {
                    var down = TimeSpan.FromMilliseconds(random.Next(500, 2_500));
                    world.Event($"crashing the PostgreSQL server for {down.TotalSeconds:0.0} s");
                    await deployment.Postgres.CrashAndRestartAsync(down);
                    world.Count("faults.postgres-crashes");
                }
                else if (roll < 70)
                {
                    var index = random.Next(deployment.InstanceCount);
                    world.Event($"restarting instance {index}");
                    await deployment.RestartAsync(index);
                    world.Count("faults.instance-restarts");
                }
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException)
            {
                world.Event($"fault injection failed: {e.Message}");
            }
        }
    }
}
