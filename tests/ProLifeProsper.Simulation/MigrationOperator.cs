using System.Net;
using System.Text.Json.Nodes;

namespace ProLifeProsper.Simulation;

/// <summary>
/// The operator: every few seconds a random legal migration step for the current phase — start, verify, cut over,
/// finalize, and rollbacks from every phase — a quarter of them sent with a time-out of a few hundred milliseconds, so the
/// step is cut off halfway. After each step, every acknowledged payment must still be served.
/// </summary>
public sealed class MigrationOperator(World world, ApiCalls api, Invariants invariants, Random random)
{
    public async Task RunAsync(CancellationToken stop)
    {
        long lastVersion = 0;
        while (!stop.IsCancellationRequested)
        {
            try { await Task.Delay(random.Next(1_500, 4_000), stop); }
            catch (OperationCanceledException) { return; }

            var routing = await RoutingAsync();
            if (routing is null) continue;
            var (phase, version) = ((string)routing["phase"]!, (long)routing["version"]!);
            if (version != lastVersion) { world.Count("phase-changes", lastVersion == 0 ? 0 : version - lastVersion); lastVersion = version; }
            if (await ChooseAsync(phase) is not { } step) continue;

            var cutOff = random.Next(100) < 25;
            var answer = await api.SendAsync(random, HttpMethod.Post, $"/api/admin/migration/{step}", SimulatedApi.AdminKey, null, null,
                cutOff ? TimeSpan.FromMilliseconds(random.Next(50, 400)) : TimeSpan.FromSeconds(60));
            world.Count($"steps.{step}");
            if (!answer.Answered) world.Count("steps.cut-off");
            world.Event($"{phase} -> {step}: {(answer.Answered ? ((int)answer.Status!).ToString() : "cut off")}");
            if (answer.IsServerError && answer.Status != HttpStatusCode.ServiceUnavailable) world.Violation($"step {step} in {phase}: {(int)answer.Status!} {answer.Body}");

            await Task.Delay(1_000, CancellationToken.None); // every instance has polled the new phase
            await invariants.CheckServedAsync("after " + step);
        }
    }

    private async Task<string?> ChooseAsync(string phase)
    {
        var roll = random.Next(100);
        switch (phase)
        {
            case "postgres":
                return roll < 70 ? "start" : null;
            case "dual-write" or "backfill":
                if (roll < 10) return "rollback";
                return await BackfillDoneAsync() ? "verify" : null;
            case "verify":
                if (roll < 10) return "rollback";
                var status = await StatusAsync();
                var last = status?["lastVerification"];
                return last is not null && (bool)last["clean"]! && (long)last["routingVersion"]! == (long)status!["routing"]!["version"]! ? "cutover" : "verify";
            case "dynamo-primary":
                return roll < 35 ? "finalize" : roll < 70 ? "rollback" : null;
            case "dynamo-only":
                return roll < 60 ? "rollback" : null;
            default:
                return null;
        }
    }

    private async Task<bool> BackfillDoneAsync() => (await StatusAsync())?["backfill"]?["completedAt"] is not null;

    private async Task<JsonNode?> StatusAsync() => await GetAsync("/api/admin/migration");

    private async Task<JsonNode?> RoutingAsync() => await GetAsync("/api/admin/routing");

    private async Task<JsonNode?> GetAsync(string path)
    {
        var answer = await api.SendAsync(random, HttpMethod.Get, path, SimulatedApi.AdminKey, null, null, TimeSpan.FromSeconds(10));
        if (answer.Status == HttpStatusCode.InternalServerError) world.Violation($"GET {path}: 500 {answer.Body}");
        return answer.Status == HttpStatusCode.OK ? JsonNode.Parse(answer.Body) : null;
    }
}
