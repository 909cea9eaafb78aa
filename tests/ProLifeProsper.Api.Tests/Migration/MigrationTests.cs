using Microsoft.Extensions.DependencyInjection;
using System.Net;
using ProLifeProsper.Api.StoreMigration;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Api.Tests.Migration;

/// <summary>
/// The online migration against real PostgreSQL and dynalite: no acknowledged payment is lost or duplicated in
/// any phase, under concurrent traffic, through a killed backfill, a DynamoDB outage, and rollbacks.
/// </summary>
public sealed class MigrationTests
{
    internal static async Task<MigrationApiFactory> StartAsync(string? dynamoUrl = null, int backfillPerSecond = 20_000, string? connectionString = null, string? prefix = null,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var factory = new MigrationApiFactory(dynamoUrl ?? (await DynaliteServer.GetAsync()).ServiceUrl, prefix ?? DynaliteServer.NewTablePrefix("migration"), backfillPerSecond, settings)
        {
            SharedConnectionString = connectionString,
        };
        await factory.InitializeAsync();
        return factory;
    }

    [Fact]
    public async Task Under_concurrent_traffic_every_acknowledged_payment_survives_every_step_and_the_rollback()
    {
        // Its own dynalite (single-threaded Node): shared with every other test class on a 2-core CI machine, the
        // backfill and the outbox drain crawled at ~50 items/s and missed the deadline.
        await using var dynalite = await DynaliteServer.StartDedicatedAsync();
        await using var factory = await StartAsync(dynalite.ServiceUrl);
        using var migration = new MigrationClient(factory);
        var tenants = new List<TestTenant>();
        for (var i = 0; i < 3; i++) tenants.Add(await TestTenant.CreateAsync(factory));
        var seeded = await migration.SeedAsync(tenants, 1_000);

        var writer = new TrafficWriter(tenants, seeded);
        using var stop = new CancellationTokenSource();
        var traffic = Task.WhenAll(Enumerable.Range(0, 3).Select(seed => writer.RunAsync(seed, stop.Token)));
        var writesPerPhase = new Dictionary<string, int>();
        var mark = 0;
        async Task EndPhaseAsync(string phase)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (writer.Writes - mark < 10 && DateTime.UtcNow < deadline) await Task.Delay(50); // let traffic run in every phase
            writesPerPhase[phase] = writer.Writes - mark;
            mark = writer.Writes;
        }

        await EndPhaseAsync("postgres");
        await migration.PostAsync("start");
        await migration.WaitForBackfillAsync(TimeSpan.FromSeconds(240)); // a liveness bound, not a speed goal
        Assert.Equal("backfill", await migration.PhaseAsync());
        await EndPhaseAsync("backfill");
        await writer.AssertServedAsync();

        await migration.VerifyCleanAsync(attempts: 3); // writers run: a write may land between the verifier's two reads
        await EndPhaseAsync("verify");
        await writer.AssertServedAsync();

        var cutover = await migration.PostAsync("cutover");
        Assert.Equal("dynamo-primary", (string)cutover["phase"]!);
        Assert.Equal("dynamodb", (string)cutover["paymentsStore"]!);
        await EndPhaseAsync("dynamo-primary");
        await writer.AssertServedAsync(); // now read from DynamoDB

        var rollback = await migration.PostAsync("rollback");
        Assert.Equal("postgres", (string)rollback["phase"]!);
        await EndPhaseAsync("rolled back");
        await writer.AssertServedAsync(); // read from PostgreSQL again

        await stop.CancelAsync();
        await traffic;
        Assert.All(writesPerPhase, p => Assert.True(p.Value >= 10, $"only {p.Value} writes ran in phase {p.Key}"));
        await writer.AssertServedAsync(exact: true);
        var status = await migration.StatusAsync();
        Assert.Equal(0, (long)status["outboxDepth"]!["postgresql"]!);
    }

    [Fact]
    public async Task A_killed_backfill_resumes_from_its_checkpoint_on_another_instance_and_verifies_clean()
    {
        var prefix = DynaliteServer.NewTablePrefix("resume");
        var dynamoUrl = (await DynaliteServer.GetAsync()).ServiceUrl;
        var connectionString = (await PostgresServer.GetAsync()).ConnectionStringFor(PostgresServer.NewDatabaseName("resume"));
        var copyLease = new Dictionary<string, string?> { ["Migration:CopyLeaseDuration"] = "00:00:03" };
        TestTenant tenant;
        await using (var setup = await StartAsync(prefix: prefix, connectionString: connectionString, settings: copyLease))
        {
            tenant = await TestTenant.CreateAsync(setup);
            await new MigrationClient(setup).SeedAsync([tenant], 2_000);
        }

        // The first instance is a process of its own, killed with SIGKILL mid-backfill: no graceful stop, no lease released.
        long copiedBeforeKill;
        await using (var killed = await ApiProcess.StartAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ConnectionStrings__prolifeprosper"] = connectionString,
            ["Auth__AdminApiKey"] = ApiFactory.AdminApiKey,
            ["DynamoDb__ServiceUrl"] = dynamoUrl,
            ["DynamoDb__TablePrefix"] = prefix,
            ["DynamoDb__WriteShards"] = "4",
            ["Migration__BackfillItemsPerSecond"] = "300",
            ["Migration__BackfillBatchSize"] = "100",
            ["Migration__CopyLeaseDuration"] = "00:00:03",
            ["Routing__AutoMigrate"] = "false", // this test takes the steps
            ["Logging__LogLevel__Default"] = "Warning",
        }))
        {
            using var admin = new HttpClient { BaseAddress = new Uri(killed.Url) };
            admin.DefaultRequestHeaders.Add("X-Api-Key", ApiFactory.AdminApiKey);
            using var migration = new MigrationClient(admin, connectionString);
            await migration.PostAsync("start");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            do
            {
                Assert.True(DateTime.UtcNow < deadline, "the backfill did not get going");
                await Task.Delay(100);
                copiedBeforeKill = (long)(await migration.StatusAsync())["backfill"]!["copied"]!;
            }
            while (copiedBeforeKill < 300);
            killed.Kill();
        }

        await using var second = await StartAsync(prefix: prefix, connectionString: connectionString, settings: copyLease);
        using var resumed = new MigrationClient(second);
        var atRestart = await resumed.StatusAsync();
        var checkpointCopied = (long)atRestart["backfill"]!["copied"]!;
        Assert.InRange(checkpointCopied, 300, 1_999);
        Assert.NotNull(atRestart["backfill"]!["checkpointTransactionId"]);

        await resumed.WaitForBackfillAsync(TimeSpan.FromSeconds(60)); // once the dead holder's lease has expired
        var done = await resumed.StatusAsync();
        Assert.Equal(2_000, (long)done["backfill"]!["copied"]!);
        Assert.Equal(2_000, (long)done["backfill"]!["total"]!);
        Assert.Equal((string)atRestart["backfill"]!["startedAt"]!, (string)done["backfill"]!["startedAt"]!); // resumed, not restarted
        await resumed.VerifyCleanAsync();
    }

    [Fact]
    public async Task Writes_succeed_while_DynamoDB_is_down_during_dual_write_and_reach_it_when_it_returns()
    {
        await using var dynalite = await DynaliteServer.StartDedicatedAsync();
        await using var factory = await StartAsync(dynalite.ServiceUrl);
        using var migration = new MigrationClient(factory);
        var tenant = await TestTenant.CreateAsync(factory);
        await migration.SeedAsync([tenant], 50);
        await migration.PostAsync("start");
        await migration.WaitForBackfillAsync(TimeSpan.FromSeconds(30));

        dynalite.Stop();
        var during = new List<Guid>();
        for (var i = 0; i < 20; i++) during.Add((await tenant.PayAsync(1_000 + i)).TransactionId);
        var refund = await tenant.PostRefundAsync(during[0], 100, "refund-during-outage");
        Assert.Equal(HttpStatusCode.Created, refund.StatusCode);
        var status = await migration.StatusAsync();
        Assert.True((long)status["outboxDepth"]!["dynamodb"]! >= 21, $"outbox should hold the writes: {status}");
        // Comparing the stores needs DynamoDB: a retryable 503, not a 500.
        var unavailable = await migration.PostAsync("verify", HttpStatusCode.ServiceUnavailable);
        Assert.Equal("https://prolifeprosper.org/problems/store-unavailable", (string)unavailable["type"]!);

        await dynalite.RestartAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((long)(await migration.StatusAsync())["outboxDepth"]!["dynamodb"]! > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the outbox did not drain after DynamoDB returned");
            await Task.Delay(200);
        }
        await migration.VerifyCleanAsync();
        Assert.Equal(70, (await tenant.ListPaymentsAsync("?limit=500")).Items.Count);
    }

    [Fact]
    public async Task A_phase_change_made_through_one_instance_is_obeyed_by_the_other_within_two_seconds()
    {
        await using var first = await StartAsync();
        await using var second = await StartAsync(prefix: first.TablePrefix, connectionString: first.ConnectionString);
        using var viaFirst = new MigrationClient(first);
        using var viaSecond = new MigrationClient(second);
        Assert.Equal("postgres", await viaSecond.PhaseAsync());

        await viaFirst.PostAsync("start");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (await viaSecond.PhaseAsync() == "postgres")
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), "the second instance did not follow within 2 s");
            await Task.Delay(50);
        }

        // Writes through the second instance are mirrored too (it dual-writes without a restart).
        var tenant = await TestTenant.CreateAsync(second);
        await tenant.PayAsync();
        await viaSecond.WaitForBackfillAsync(TimeSpan.FromSeconds(30));
        await viaFirst.VerifyCleanAsync();
    }

    [Fact]
    public async Task The_backfill_writes_to_no_organization_faster_than_its_per_organization_cap()
    {
        await using var factory = await StartAsync();
        using var migration = new MigrationClient(factory);
        var big = await TestTenant.CreateAsync(factory);
        var small = await TestTenant.CreateAsync(factory);
        await migration.SeedAsync([big], 300);
        await migration.SeedAsync([small], 20);
        await BackfillHarness.HoldLeaseAsync(factory);
        await migration.PostAsync("start");

        // Every copy the backfill sends, by organization (the partition key of both tables) and time.
        var sent = new System.Collections.Concurrent.ConcurrentQueue<(string Body, long At)>();
        using var observer = new BetweenStepsHandler((operation, body) => { sent.Enqueue((body, Environment.TickCount64)); return false; }, () => { });
        const int cap = 60;
        var settings = factory.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<MigrationOptions>>().Value;
        var capped = new MigrationOptions { BackfillItemsPerSecond = 20_000, BackfillBatchSize = settings.BackfillBatchSize, BackfillItemsPerSecondPerOrganization = cap };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        Assert.True(await BackfillHarness.Through(factory, observer, capped).RunAsync(_ => Task.FromResult(true), deadline.Token));

        // Copies only: the marks of the copied payments' hours go to the aggregates table, not to the organization's payment partitions.
        var toBig = sent.Where(s => s.Body.Contains(big.OrganizationId.ToString(), StringComparison.Ordinal) && !s.Body.Contains("pro_life_prosper_aggregates", StringComparison.Ordinal))
            .Select(s => s.At).Order().ToList();
        Assert.True(toBig.Count >= 600, $"{toBig.Count} copies of the large organization's payments and records"); // nothing skipped
        // A token bucket of one second's worth: in any second, at most the burst plus a second's refill (with a little slack).
        var busiest = toBig.Select((at, i) => toBig.Skip(i).TakeWhile(t => t - at < 1_000).Count()).Max();
        Assert.True(busiest <= 2 * cap + 10, $"{busiest} copies to one organization within a second, over a cap of {cap}/s");
        await migration.VerifyCleanAsync();
    }

    [Fact]
    public async Task Out_of_order_steps_are_refused_with_409_saying_what_comes_first()
    {
        await using var factory = await StartAsync();
        using var migration = new MigrationClient(factory);
        foreach (var step in new[] { "cutover", "verify", "finalize", "rollback" })
        {
            var problem = await migration.PostAsync(step, HttpStatusCode.Conflict);
            Assert.Equal("https://prolifeprosper.org/problems/migration-step-out-of-order", (string)problem["type"]!);
            Assert.False(string.IsNullOrWhiteSpace((string?)problem["detail"]));
        }
        await migration.PostAsync("start");
        Assert.Contains("already", (string)(await migration.PostAsync("start", HttpStatusCode.Conflict))["detail"]!);
        await migration.WaitForBackfillAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("Verify", (string)(await migration.PostAsync("cutover", HttpStatusCode.Conflict))["detail"]!);
        Assert.Contains("Cut over", (string)(await migration.PostAsync("finalize", HttpStatusCode.Conflict))["detail"]!);
        Assert.Equal("postgres", (string)(await migration.PostAsync("rollback"))["phase"]!);
    }

    [Fact]
    public async Task Rollback_from_dynamo_only_copies_back_everything_written_since()
    {
        await using var factory = await StartAsync();
        using var migration = new MigrationClient(factory);
        var tenant = await TestTenant.CreateAsync(factory);
        var before = await tenant.PayAsync(1_000);
        await migration.PostAsync("start");
        await migration.WaitForBackfillAsync(TimeSpan.FromSeconds(30));
        await migration.VerifyCleanAsync();
        await migration.PostAsync("cutover");
        Assert.Equal("dynamo-only", (string)(await migration.PostAsync("finalize"))["phase"]!);

        var after = await tenant.PayAsync(2_000);
        Assert.Equal(HttpStatusCode.Created, (await tenant.PostRefundAsync(before.TransactionId, 250, "refund-after-finalize")).StatusCode);

        var rollback = await migration.PostAsync("rollback", HttpStatusCode.Accepted);
        Assert.Equal("dynamo-primary", (string)rollback["phase"]!); // every new write reaches PostgreSQL again while DynamoDB is copied back
        Assert.Equal("postgres", (string)(await migration.RollbackAsync(TimeSpan.FromSeconds(60)))["phase"]!);
        var served = (await tenant.ListPaymentsAsync()).Items.ToDictionary(p => p.TransactionId);
        Assert.Equal(2, served.Count);
        Assert.Equal(250, served[before.TransactionId].RefundedAmountMinor);
        Assert.Equal(2_000, served[after.TransactionId].AmountMinor);

        // The refund's idempotency key still replays after the rollback.
        var replay = await tenant.PostRefundAsync(before.TransactionId, 250, "refund-after-finalize");
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.True(replay.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(250, (await tenant.ListPaymentsAsync()).Items.Single(p => p.TransactionId == before.TransactionId).RefundedAmountMinor);
    }
}
