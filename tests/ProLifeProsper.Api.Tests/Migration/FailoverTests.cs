using Xunit.Abstractions;
using System.Diagnostics;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Api.Tests.Migration;

/// <summary>Failover as policy (Routing:FailoverAfter): DynamoDB killed in dynamo-primary, the reconciler brings payments home by itself.</summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task With_DynamoDB_killed_in_dynamo_primary_the_reconciler_fails_over_to_PostgreSQL_and_no_acknowledged_payment_is_lost()
    {
        await using var dynalite = await DynaliteServer.StartDedicatedAsync();
        await using var factory = await MigrationTests.StartAsync(dynalite.ServiceUrl, settings: new Dictionary<string, string?>
        {
            ["Routing:AutoMigrate"] = "true",
            ["Routing:FailoverAfter"] = "00:00:03",
        });
        using var migration = new MigrationClient(factory);
        var tenants = new List<TestTenant>();
        for (var i = 0; i < 2; i++) tenants.Add(await TestTenant.CreateAsync(factory));
        var seeded = await migration.SeedAsync(tenants, 100);
        var writer = new TrafficWriter(tenants, seeded, tolerateUnavailable: true);
        await migration.PostAsync("start"); // the operator's step: the target is DynamoDB now, the reconciler carries on
        await WaitAsync(async () => await migration.PhaseAsync() == "dynamo-primary", "the cut-over", writer);

        using var stop = new CancellationTokenSource();
        var traffic = Task.WhenAll(Enumerable.Range(0, 2).Select(seed => writer.RunAsync(seed, stop.Token)));
        await WaitAsync(() => Task.FromResult(writer.Acknowledged >= 20), "writes acknowledged on DynamoDB", writer);
        Assert.Equal("dynamo-primary", await migration.PhaseAsync());

        dynalite.Stop(); // DynamoDB is gone: every DynamoDB-first write fails from now on
        var down = Stopwatch.StartNew();
        await WaitAsync(async () => await migration.PhaseAsync() == "postgres", "the failover", writer);
        var failedOverAfter = down.Elapsed;
        Assert.True(failedOverAfter >= TimeSpan.FromSeconds(3), $"failed over after {failedOverAfter.TotalSeconds:F1} s, before Routing:FailoverAfter");
        var status = await migration.StatusAsync();
        Assert.Equal("current", (string)status["reconciler"]!["target"]!); // it stays home: migrating again is an operator's step
        Assert.Contains("DynamoDB had failed", (string?)status["reconciler"]!["lastOutcome"]);

        // Writes are taken again, on PostgreSQL, while DynamoDB is still down.
        var acknowledgedAtFailover = writer.Acknowledged;
        var back = Stopwatch.StartNew();
        await WaitAsync(() => Task.FromResult(writer.Acknowledged >= acknowledgedAtFailover + 20), "writes acknowledged on PostgreSQL", writer);
        output.WriteLine($"failed over {failedOverAfter.TotalSeconds:F1} s after DynamoDB was killed; 20 more writes acknowledged {back.Elapsed.TotalSeconds:F1} s later; {writer.Unavailable} answered 503");
        await stop.CancelAsync();
        await traffic;
        Assert.True(writer.Unavailable > 0, "the outage was seen by the writers (503s) before the failover");
        Assert.Equal("postgres", await migration.PhaseAsync());
        await writer.AssertServedAsync(exact: true); // every acknowledged payment, from PostgreSQL, with DynamoDB still down
    }

    private static async Task WaitAsync(Func<Task<bool>> done, string what, TrafficWriter writer)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90); // a liveness bound, not a speed goal
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}; acknowledged {writer.Acknowledged}, 503s {writer.Unavailable}, failures: " +
                string.Join(" | ", writer.Failures.Take(3)));
            await Task.Delay(200);
        }
    }
}
