using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Api.Tests.Migration;

/// <summary>"Load test before switching" as a gate: with Migration:CutoverRequiresLoadTest a cut-over needs a fresh passing report of dynamo-primary against this build.</summary>
public sealed class CutoverGateTests
{
    [Fact]
    public async Task A_cut_over_waits_for_a_fresh_passing_load_test_of_this_build_and_the_reconciler_goes_on_once_it_is_submitted()
    {
        await using var dynalite = await DynaliteServer.StartDedicatedAsync();
        await using var factory = await MigrationTests.StartAsync(dynalite.ServiceUrl, settings: new Dictionary<string, string?>
        {
            ["Migration:CutoverRequiresLoadTest"] = "true",
            ["Routing:AutoMigrate"] = "true", // the operator's start below makes DynamoDB the target: the reconciler carries on
        });
        using var migration = new MigrationClient(factory);
        using var admin = factory.CreateAdminClient();
        var tenant = await TestTenant.CreateAsync(factory);
        var seeded = await migration.SeedAsync([tenant], 50);
        var version = (string)(await migration.StatusAsync())["apiVersion"]!;
        Assert.Contains("+", version); // the build's commit, so a report names exactly what it measured

        await migration.PostAsync("start");
        await migration.WaitForBackfillAsync(TimeSpan.FromSeconds(60));
        await migration.VerifyCleanAsync();
        Assert.Contains("none has been submitted", await RefusedCutoverAsync(migration));

        // A malformed report is refused and stores nothing.
        var malformed = await admin.PostAsJsonAsync("/api/admin/migration/load-tests", Report(version, p99: 20) with { Thresholds = new(null, null, null) });
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("threshold", await malformed.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/admin/migration/load-tests/dynamo-primary")).StatusCode);

        var nul = await admin.PostAsJsonAsync("/api/admin/migration/load-tests", Report(version, p99: 20) with { Command = "loadtests\u0000" });
        Assert.Equal(HttpStatusCode.BadRequest, nul.StatusCode);

        // The gate judges the figures itself: a run where nothing succeeded fails although its p99 is low, and so does a
        // p99 over the threshold, whatever the tool concluded.
        var nothingSucceeded = Report(version, p99: 1) with { Scenarios = [new("create-payment", 0, 1_000, 0, 1)] };
        Assert.False((bool)(await SubmitAsync(admin, nothingSucceeded))["passed"]!);
        var failing = await SubmitAsync(admin, Report(version, p99: 250));
        Assert.False((bool)failing["passed"]!);
        Assert.Contains("failed", await RefusedCutoverAsync(migration));
        // Another build's pass, and a pass older than a day, do not open it either.
        Assert.True((bool)(await SubmitAsync(admin, Report("1.0.0+0000000", p99: 20)))["passed"]!);
        Assert.Contains("another build", await RefusedCutoverAsync(migration));
        await SubmitAsync(admin, Report(version, p99: 20) with { MeasuredAt = DateTimeOffset.UtcNow.AddHours(-30) });
        Assert.Contains("ago", await RefusedCutoverAsync(migration));
        Assert.Equal("verify", await migration.PhaseAsync());

        // The reconciler, carrying on the operator's start, waits at the same gate and says why.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((string?)(await migration.StatusAsync())["reconciler"]!["lastOutcome"] is not { } outcome || !outcome.Contains("load test", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the reconciler did not meet the gate: {await migration.StatusAsync()}");
            await Task.Delay(200);
        }
        Assert.Equal("verify", await migration.PhaseAsync());

        // A fresh pass of this build: the cut-over goes through (by the operator here, unless the reconciler was first).
        Assert.True((bool)(await SubmitAsync(admin, Report(version, p99: 20)))["passed"]!);
        var cutover = await admin.PostAsync("/api/admin/migration/cutover", null);
        Assert.True(cutover.StatusCode == HttpStatusCode.OK || await migration.PhaseAsync() == "dynamo-primary", await cutover.Content.ReadAsStringAsync());
        Assert.Equal("dynamo-primary", await migration.PhaseAsync());
        var writer = new TrafficWriter([tenant], seeded);
        await writer.AssertServedAsync(exact: true);
    }

    private static LoadTestReport Report(string version, double p99) => new("dynamo-primary", version, DateTimeOffset.UtcNow.AddMinutes(-5),
        new(MaxP99Ms: 100, MaxErrorRate: 0.01, MinRps: null),
        [new("create-payment", 10_000, 3, 650, p99), new("get-payment", 20_000, 0, 1_400, 8)], "loadtests --configurations dynamo-primary");

    private sealed record LoadTestReport(string Phase, string ApiVersion, DateTimeOffset MeasuredAt, Thresholds Thresholds, Scenario[] Scenarios, string Command);

    private sealed record Thresholds(double? MaxP99Ms, double? MaxErrorRate, double? MinRps);

    private sealed record Scenario(string Scenario_, long Ok, long Failed, double RequestsPerSecond, double P99Ms)
    {
        [System.Text.Json.Serialization.JsonPropertyName("scenario")]
        public string Scenario_ { get; init; } = Scenario_;
    }

    private static async Task<JsonNode> SubmitAsync(HttpClient admin, LoadTestReport report)
    {
        var response = await admin.PostAsJsonAsync("/api/admin/migration/load-tests", report);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonNode.Parse(body)!;
    }

    private static async Task<string> RefusedCutoverAsync(MigrationClient migration) =>
        (string)(await migration.PostAsync("cutover", HttpStatusCode.Conflict))["detail"]!;
}
