using System.Text.Json.Nodes;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Api.Tests.Migration;

/// <summary><c>Routing:Configuration</c> as desired state: replicas started with another configuration move payments there online.</summary>
public sealed class MigrationReconcilerTests
{
    [Fact]
    public async Task A_replica_started_with_highScale_moves_payments_to_DynamoDB_under_traffic_and_one_started_with_current_brings_them_home()
    {
        await using var dynalite = await DynaliteServer.StartDedicatedAsync(); // its own: the backfill must not queue behind other tests
        var connectionString = (await PostgresServer.GetAsync()).ConnectionStringFor(PostgresServer.NewDatabaseName("reconcile"));
        var prefix = DynaliteServer.NewTablePrefix("reconcile");
        // The replica already running: configured `current`, reconciler off (as before this feature). Writers use it throughout.
        await using var old = await MigrationTests.StartAsync(dynalite.ServiceUrl, connectionString: connectionString, prefix: prefix);
        using var migration = new MigrationClient(old);
        var tenants = new List<TestTenant>();
        for (var i = 0; i < 2; i++) tenants.Add(await TestTenant.CreateAsync(old));
        var seeded = await migration.SeedAsync(tenants, 300);
        var writer = new TrafficWriter(tenants, seeded);
        using var stop = new CancellationTokenSource();
        var traffic = Task.WhenAll(Enumerable.Range(0, 2).Select(seed => writer.RunAsync(seed, stop.Token)));

        // A new replica with highScale: it records where payments should be and drives the migration there, step by step.
        var reconcile = new Dictionary<string, string?>
        {
            ["Routing:AutoMigrate"] = "true",
            ["Routing:FinalizeAfter"] = "00:00:02",
        };
        await using var highScale = await MigrationTests.StartAsync(dynalite.ServiceUrl, connectionString: connectionString, prefix: prefix,
            settings: new Dictionary<string, string?>(reconcile) { ["Routing:Configuration"] = "highScale" });
        var writesBefore = writer.Writes;
        var phases = await WaitForPhaseAsync(migration, "dynamo-only", writer);
        Assert.Contains("dynamo-primary", phases); // the soak before finalizing (Routing:FinalizeAfter) is seen
        Assert.True(writer.Writes - writesBefore >= 10, "writers ran while the payments moved");
        var status = await migration.StatusAsync();
        Assert.Equal("highScale", (string)status["reconciler"]!["target"]!);
        Assert.True((bool)status["reconciler"]!["reached"]!);
        await writer.AssertServedAsync(); // every acknowledged payment, now read from DynamoDB

        // Then a replica with `current` (the highScale one still running: the last started decides, they do not fight).
        var before = writer.Writes;
        await using var current = await MigrationTests.StartAsync(dynalite.ServiceUrl, connectionString: connectionString, prefix: prefix,
            settings: new Dictionary<string, string?>(reconcile) { ["Routing:Configuration"] = "current" });
        await WaitForPhaseAsync(migration, "postgres", writer);
        status = await migration.StatusAsync();
        Assert.Equal("current", (string)status["reconciler"]!["target"]!);
        Assert.True((bool)status["reconciler"]!["reached"]!);
        await Task.Delay(1_000); // the reconcilers look again: nothing moves back
        Assert.Equal("postgres", await migration.PhaseAsync());

        await stop.CancelAsync();
        await traffic;
        Assert.True(writer.Writes - before >= 10, "writers ran while the payments came home");
        await writer.AssertServedAsync(exact: true); // nothing lost, nothing doubled, read from PostgreSQL again
    }

    [Fact]
    public async Task An_operators_step_is_carried_on_and_a_restart_with_the_same_configuration_does_not_undo_it()
    {
        await using var dynalite = await DynaliteServer.StartDedicatedAsync();
        var connectionString = (await PostgresServer.GetAsync()).ConnectionStringFor(PostgresServer.NewDatabaseName("intent"));
        var prefix = DynaliteServer.NewTablePrefix("intent");
        var reconcile = new Dictionary<string, string?> { ["Routing:AutoMigrate"] = "true", ["Routing:Configuration"] = "current" };
        await using var first = await MigrationTests.StartAsync(dynalite.ServiceUrl, connectionString: connectionString, prefix: prefix, settings: reconcile);
        using var migration = new MigrationClient(first);
        var tenant = await TestTenant.CreateAsync(first);
        var seeded = await migration.SeedAsync([tenant], 100);

        // The operator starts a migration by hand on an API configured `current`: the reconciler carries it on, not back.
        await migration.PostAsync("start");
        var writer = new TrafficWriter([tenant], seeded);
        await WaitForPhaseAsync(migration, "dynamo-primary", writer); // Routing:FinalizeAfter unset: it stays there
        Assert.Equal("highScale", (string)(await migration.StatusAsync())["reconciler"]!["target"]!);

        // Another replica with the same configuration as before the step (a restart, a scale-out) is no new intention.
        await using var second = await MigrationTests.StartAsync(dynalite.ServiceUrl, connectionString: connectionString, prefix: prefix, settings: reconcile);
        await Task.Delay(2_000); // ten reconciler intervals
        Assert.Equal("dynamo-primary", await migration.PhaseAsync());
        Assert.Equal("highScale", (string)(await migration.StatusAsync())["reconciler"]!["target"]!);
        await writer.AssertServedAsync(exact: true); // the seeded payments, on DynamoDB now
    }

    // Polls the phase until it is reached, while the writers keep going; the phases seen on the way.
    private static async Task<List<string>> WaitForPhaseAsync(MigrationClient migration, string phase, TrafficWriter writer)
    {
        var seen = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(240); // a liveness bound, not a speed goal
        while (true)
        {
            var now = await migration.PhaseAsync();
            if (seen.Count == 0 || seen[^1] != now) seen.Add(now);
            if (now == phase) return seen;
            Assert.True(DateTime.UtcNow < deadline, $"still {now} (seen: {string.Join(" → ", seen)}); writes so far {writer.Writes}; " +
                (await migration.StatusAsync())["reconciler"]?.ToJsonString());
            await Task.Delay(200);
        }
    }
}
