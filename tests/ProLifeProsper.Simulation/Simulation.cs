using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using ProLifeProsper.Testing.Faults;

namespace ProLifeProsper.Simulation;

/// <summary>
/// The fault-injecting simulation (after Jepsen's bank test and FoundationDB's simulation): the real API — several
/// instances on real PostgreSQL and dynalite — driven by concurrent donor clients, an operator taking random migration
/// steps (rollbacks from every phase included, some cut off halfway), and injected faults (DynamoDB throttles, failures
/// before sending, writes applied but answered 500 or reset, short pages, index lag; PostgreSQL connections killed; API
/// instances restarted). The seed drives every choice and every die; the thread interleaving is the machine's, so a
/// failing seed replays the same plan of operations and faults, not the same schedule. Invariants are checked after every
/// migration step and, in a quiet system, at the end.
/// </summary>
public static class Simulation
{
    public static async Task<SimulationReport> RunAsync(SimulationOptions options)
    {
        var clock = Stopwatch.StartNew();
        var seeds = new Random(options.Seed);
        await using var deployment = await Deployment.StartAsync(options);
        using var api = new ApiCalls(deployment);
        var world = new World(await CreateOrganizationsAsync(api, options.Organizations, new Random(seeds.Next())));
        var invariants = new Invariants(world, api, new Random(seeds.Next()));
        options.Log($"seed {options.Seed}: {options.Instances} API instances, {options.Clients} clients, {options.Organizations} organizations, {options.Duration.TotalSeconds:0} s");

        using (var stop = new CancellationTokenSource())
        {
            var work = Enumerable.Range(0, options.Clients).Select(_ => new Donor(world, api, new Random(seeds.Next())).RunAsync(stop.Token)).ToList();
            work.Add(new MigrationOperator(world, api, invariants, new Random(seeds.Next())).RunAsync(stop.Token));
            work.Add(new FaultInjector(world, deployment, new Random(seeds.Next())).RunAsync(stop.Token));
            using var progress = new Timer(_ => options.Log($"  {clock.Elapsed.TotalSeconds:0} s: {world.Counters.GetValueOrDefault("creates.acknowledged")} payments, " +
                $"{world.Counters.GetValueOrDefault("phase-changes")} phase changes, {world.Violations.Count} violations"), null, 15_000, 15_000);
            await Task.Delay(options.Duration);
            while (world.Counters.GetValueOrDefault("phase-changes") < options.MinPhaseChanges && clock.Elapsed < options.MaxDuration)
                await Task.Delay(500);
            await stop.CancelAsync();
            await Task.WhenAll(work);
        }

        options.Log("traffic stopped; bringing payments home and checking the books");
        await QuiesceAsync(world, api, invariants, deployment.Ledger);
        await invariants.CheckFinalAsync(new SandboxLedgerView(deployment.Ledger));

        foreach (var line in world.Events) options.Log("  " + line);
        world.Count("faults.processor-unreachable", deployment.Processor.FailedBeforeActing);
        world.Count("faults.processor-lost-answers", deployment.Processor.LostAnswers);
        var faults = Enum.GetValues<HostileFault>().ToDictionary(f => f.ToString(), f => deployment.Hostile.Ledger.FaultsOf(f));
        return new SimulationReport(options.Seed, clock.Elapsed, new Dictionary<string, long>(world.Counters), faults,
            deployment.Hostile.Ledger.Forwarded, world.Violations.ToList(), world.Events.ToList());
    }

    /// <summary>With traffic stopped: a verification must be clean, a rollback must finish, the outbox empty and every transfer settle.</summary>
    private static async Task QuiesceAsync(World world, ApiCalls api, Invariants invariants, ProLifeProsper.Domain.Payments.SandboxLedger ledger)
    {
        var random = new Random(0);
        async Task<JsonNode?> AdminAsync(HttpMethod method, string path)
        {
            for (var attempt = 0; attempt < 40; attempt++)
            {
                var answer = await api.SendAsync(random, method, path, SimulatedApi.AdminKey, null, null, TimeSpan.FromSeconds(120));
                if (answer.Status is HttpStatusCode.OK or HttpStatusCode.Accepted) return JsonNode.Parse(answer.Body);
                if (answer.Status == HttpStatusCode.Conflict) return JsonNode.Parse(answer.Body);
                await Task.Delay(500);
            }
            world.Violation($"final: {method} {path} never answered");
            return null;
        }
        async Task<bool> WaitAsync(Func<JsonNode, bool> done, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                if (await AdminAsync(HttpMethod.Get, "/api/admin/migration") is { } status && done(status)) return true;
                await Task.Delay(250);
            }
            return false;
        }

        // The backfill's time grows with the data (a long soak holds tens of thousands of payments): it fails only if it stops
        // making progress for a minute.
        async Task<bool> BackfillCompletesAsync()
        {
            long? lastCopied = null;
            var progressedAt = DateTime.UtcNow;
            while (DateTime.UtcNow - progressedAt < TimeSpan.FromSeconds(60))
            {
                if (await AdminAsync(HttpMethod.Get, "/api/admin/migration") is { } status)
                {
                    if (status["backfill"]!["completedAt"] is not null) return true;
                    var copied = (long)status["backfill"]!["copied"]! + (long)status["backfill"]!["recordsCopied"]!;
                    if (copied != lastCopied) (lastCopied, progressedAt) = (copied, DateTime.UtcNow);
                }
                await Task.Delay(500);
            }
            return false;
        }

        var phase = (string?)(await AdminAsync(HttpMethod.Get, "/api/admin/routing"))?["phase"];
        if (phase is "dual-write" or "backfill" or "verify")
        {
            if (!await BackfillCompletesAsync()) world.Violation("final: the backfill stopped making progress before it completed");
            else if (await AdminAsync(HttpMethod.Post, "/api/admin/migration/verify") is { } verification && verification["clean"]?.GetValue<bool>() != true)
                world.Violation($"final: with no traffic, verification is not clean: {verification}");
        }
        if (phase != "postgres")
        {
            await AdminAsync(HttpMethod.Post, "/api/admin/migration/rollback");
            if (!await WaitAsync(s => (string)s["routing"]!["phase"]! == "postgres", TimeSpan.FromSeconds(300))) world.Violation("final: the rollback never finished");
        }
        if (!await WaitAsync(s => (long)s["outboxDepth"]!["postgresql"]! == 0 && (long)s["outboxDepth"]!["dynamodb"]! == 0, TimeSpan.FromSeconds(90)))
            world.Violation("final: the outbox never drained");
        // Every refund the store records is paid by the processor before any client retries it: the ones cut off before their
        // pay-out by the sweeper (after its grace), the rest by their requests.
        var paidBy = DateTime.UtcNow.AddSeconds(90);
        while (await invariants.UnpaidRefundsAsync(ledger) is { Count: > 0 } unpaid)
        {
            if (DateTime.UtcNow > paidBy) { foreach (var line in unpaid) world.Violation($"final: before any retry, {line}"); break; }
            await Task.Delay(1_000);
        }
        var settleBy = DateTime.UtcNow.AddSeconds(60);
        while (await invariants.CountPendingAsync() > 0)
        {
            if (DateTime.UtcNow > settleBy) { world.Violation("final: bank transfers still pending a minute after traffic stopped"); break; }
            await Task.Delay(500);
        }
    }

    private static async Task<IReadOnlyList<SimOrganization>> CreateOrganizationsAsync(ApiCalls api, int count, Random random)
    {
        async Task<JsonNode> PostAsync(string path, string key, object body)
        {
            for (var attempt = 0; ; attempt++)
            {
                var answer = await api.SendAsync(random, HttpMethod.Post, path, key, body, null, TimeSpan.FromSeconds(30));
                if (answer.Status == HttpStatusCode.Created) return JsonNode.Parse(answer.Body)!;
                if (attempt == 10) throw new InvalidOperationException($"Could not set up the simulation: POST {path} answered {answer.Status} {answer.Body}");
                await Task.Delay(500);
            }
        }
        var organizations = new List<SimOrganization>();
        for (var i = 0; i < count; i++)
        {
            var organization = await PostAsync("/api/organizations", SimulatedApi.AdminKey, new { name = $"Simulated charity {i}" });
            var (id, key) = ((Guid)organization["id"]!, (string)organization["apiKey"]!);
            var campaign = await PostAsync($"/api/organizations/{id}/campaigns", key, new { name = "Appeal", goalAmountMinor = 100_000_000, currency = "USD" });
            var donor = await PostAsync($"/api/organizations/{id}/donors", key, new { email = $"donor{i}@example.org", name = "Donor" });
            organizations.Add(new SimOrganization(id, key, (Guid)campaign["id"]!, (Guid)donor["id"]!));
        }
        return organizations;
    }
}
