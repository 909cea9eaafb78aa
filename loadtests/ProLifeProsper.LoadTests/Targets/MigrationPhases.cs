using System.Net.Http.Json;
using System.Text.Json;

namespace ProLifeProsper.LoadTests.Targets;

/// <summary>
/// The migration's intermediate phases as load-test targets: an API started with <c>current</c> (reconciler off) is taken
/// there with the operator's own admin steps before it is measured, so "load test before switching" can measure the phase
/// about to be entered, not only the two end states.
/// </summary>
public static class MigrationPhases
{
    /// <summary>Phases the tool can measure besides the routing configurations.</summary>
    public static readonly IReadOnlyList<string> Names = ["dual-write", "dynamo-primary"];

    public static bool IsPhase(string name) => Names.Contains(name);

    /// <summary>Settings of the API the tool starts for a phase: it starts in PostgreSQL and waits for the steps.</summary>
    public static IEnumerable<string> ApiSettings => ["Routing__AutoMigrate=false", "Migration__RoutingPollInterval=00:00:00.200"];

    public static async Task EnterAsync(string url, string adminKey, string phase, CancellationToken cancellationToken)
    {
        using var admin = AdminClient(url, adminKey, TimeSpan.FromMinutes(2));
        await StepAsync(admin, "start", cancellationToken);
        // An empty database: the backfill has nothing to copy and completes at once.
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!(await admin.GetFromJsonAsync<JsonElement>("/api/admin/migration", cancellationToken)).GetProperty("backfill").GetProperty("isComplete").GetBoolean())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The backfill of an empty database did not complete within a minute.");
            await Task.Delay(200, cancellationToken);
        }
        if (phase == "dual-write") return; // writes go to PostgreSQL and, through the outbox, to DynamoDB
        await StepAsync(admin, "verify", cancellationToken);
        await StepAsync(admin, "cutover", cancellationToken);
    }

    /// <summary>
    /// The outbox the run left behind: how many writes were still queued for the other store when the load stopped, and how
    /// long they took to drain (a phase is livable only if the drain keeps up with the writes).
    /// </summary>
    public static async Task<string> DescribeOutboxAsync(string url, string adminKey, string phase, CancellationToken cancellationToken)
    {
        using var admin = AdminClient(url, adminKey, TimeSpan.FromSeconds(30));
        async Task<long> DepthAsync()
        {
            var depth = (await admin.GetFromJsonAsync<JsonElement>("/api/admin/migration", cancellationToken)).GetProperty("outboxDepth");
            return depth.GetProperty("dynamodb").GetInt64() + depth.GetProperty("postgresql").GetInt64();
        }
        var left = await DepthAsync();
        var drained = System.Diagnostics.Stopwatch.StartNew();
        var deadline = TimeSpan.FromMinutes(3);
        var now = left;
        while (now > 0 && drained.Elapsed < deadline)
        {
            await Task.Delay(100, cancellationToken);
            now = await DepthAsync();
        }
        return now > 0
            ? $"outbox @ {phase}: {left:N0} writes queued when the load stopped, {now:N0} still queued after {deadline.TotalMinutes:0} min"
            : $"outbox @ {phase}: {left:N0} writes queued when the load stopped, drained in {drained.Elapsed.TotalSeconds:0.0} s";
    }

    private static HttpClient AdminClient(string url, string adminKey, TimeSpan timeout)
    {
        var admin = new HttpClient { BaseAddress = new Uri(url), Timeout = timeout };
        admin.DefaultRequestHeaders.Add("X-Api-Key", adminKey);
        return admin;
    }

    private static async Task StepAsync(HttpClient admin, string step, CancellationToken cancellationToken)
    {
        using var response = await admin.PostAsync($"/api/admin/migration/{step}", null, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"migration {step}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
    }
}
