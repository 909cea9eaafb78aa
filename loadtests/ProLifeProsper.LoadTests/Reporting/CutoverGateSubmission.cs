using System.Net.Http.Json;
using System.Text.Json;
using ProLifeProsper.LoadTests.Engine;

namespace ProLifeProsper.LoadTests.Reporting;

/// <summary>
/// "Load test before switching" as a gate: each measured phase's figures, the thresholds and the measured API's build are
/// submitted to a deployment's admin API (<c>--submit-to</c>), whose cut-over can require a fresh pass
/// (<c>Migration:CutoverRequiresLoadTest</c>). The deployment judges the figures itself.
/// </summary>
public static class CutoverGateSubmission
{
    /// <summary>What the API under test says it is: its build (with commit) and its phase now.</summary>
    public static async Task<(string Version, string Phase)> DescribeAsync(string url, string adminKey, CancellationToken cancellationToken)
    {
        using var admin = Client(url, adminKey);
        var status = await admin.GetFromJsonAsync<JsonElement>("/api/admin/migration", cancellationToken);
        return (status.GetProperty("apiVersion").GetString() ?? "unknown", status.GetProperty("routing").GetProperty("phase").GetString() ?? "unknown");
    }

    /// <summary>Submits one report per measured phase; returns one line per verdict.</summary>
    public static async Task<IReadOnlyList<string>> SubmitAsync(string url, string adminKey, LoadReport report, Thresholds thresholds,
        IReadOnlyDictionary<string, (string Version, string Phase)> measured, CancellationToken cancellationToken)
    {
        using var admin = Client(url, adminKey);
        var lines = new List<string>();
        foreach (var (configuration, api) in measured)
        {
            var scenarios = report.Results.Where(r => r.Configuration == configuration)
                .Select(r => new { scenario = r.Scenario, ok = r.Ok, failed = r.Failed, requestsPerSecond = r.RequestsPerSecond, p99Ms = r.P99Ms }).ToList();
            if (scenarios.Count == 0) continue;
            using var response = await admin.PostAsJsonAsync("/api/admin/migration/load-tests", new
            {
                phase = api.Phase,
                apiVersion = api.Version,
                measuredAt = report.StartedAt,
                thresholds = new { maxP99Ms = thresholds.MaxP99Ms, maxErrorRate = thresholds.MaxErrorRate, minRps = thresholds.MinRps },
                scenarios,
                command = report.Command,
            }, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode) { lines.Add($"{api.Phase}: not recorded ({(int)response.StatusCode}): {body}"); continue; }
            var verdict = JsonDocument.Parse(body).RootElement;
            lines.Add(verdict.GetProperty("passed").GetBoolean()
                ? $"{api.Phase}: recorded as passing at {url} (build {api.Version})"
                : $"{api.Phase}: recorded as failing at {url}: {string.Join("; ", verdict.GetProperty("failures").EnumerateArray().Select(f => f.GetString()))}");
        }
        return lines;
    }

    private static HttpClient Client(string url, string adminKey)
    {
        var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", adminKey);
        return client;
    }
}
