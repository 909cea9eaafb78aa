using System.Globalization;
using System.Text;
using System.Text.Json;
using ProLifeProsper.LoadTests.Engine;

namespace ProLifeProsper.LoadTests.Reporting;

/// <summary>Writes a run's report files: Markdown, CSV, JSON and a self-contained HTML page with charts (<see cref="HtmlReport"/>).</summary>
public static class ReportWriter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string WriteAll(LoadReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "report.md"), Markdown(report));
        File.WriteAllText(Path.Combine(folder, "report.csv"), Csv(report.Results));
        File.WriteAllText(Path.Combine(folder, "report.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        File.WriteAllText(Path.Combine(folder, "report.html"), HtmlReport.Render(report));
        return folder;
    }

    public static string Markdown(LoadReport report)
    {
        var md = new StringBuilder();
        md.AppendLine(Invariant, $"# Load test {report.StartedAt:yyyy-MM-dd HH:mm} UTC").AppendLine()
          .AppendLine(Invariant, $"Machine: {report.Machine}  ").AppendLine(Invariant, $"Command: `{report.Command}`").AppendLine()
          .AppendLine("| scenario @ configuration | model | VUs | ok | failed | req/s | min | mean | max | p50 | p75 | p95 | p99 (ms) | data (MB) |")
          .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in report.Results)
            md.AppendLine(Invariant, $"| {r.Name} | {r.Model} | {r.VirtualUsers} | {r.Ok} | {r.Failed} | {r.RequestsPerSecond:F0} | {F(r.MinMs)} | {F(r.MeanMs)} | {F(r.MaxMs)} | {F(r.P50Ms)} | {F(r.P75Ms)} | {F(r.P95Ms)} | {F(r.P99Ms)} | {r.BytesReceived / 1048576.0:F1} |");
        md.AppendLine().AppendLine("## Answers").AppendLine();
        foreach (var r in report.Results)
            md.AppendLine(Invariant, $"- {r.Name}: {string.Join(", ", r.Answers.Select(a => $"{a.Key} × {a.Value:N0}"))}");
        if (report.Efficiency.Count > 0) md.AppendLine().AppendLine("## API efficiency").AppendLine().AppendJoin(Environment.NewLine, report.Efficiency.Select(e => $"- {e}")).AppendLine();
        md.AppendLine().AppendLine("## Gate").AppendLine().AppendLine(report.GateFailures.Count == 0 ? "All thresholds met." : string.Join(Environment.NewLine, report.GateFailures.Select(f => $"- FAILED: {f}")));
        return md.ToString();
    }

    private static string Csv(IEnumerable<ScenarioResult> results)
    {
        var csv = new StringBuilder("scenario,configuration,model,vus,ok,failed,rps,min_ms,mean_ms,max_ms,p50_ms,p75_ms,p95_ms,p99_ms,bytes\n");
        foreach (var r in results)
            csv.AppendLine(Invariant, $"{r.Scenario},{r.Configuration},{r.Model},{r.VirtualUsers},{r.Ok},{r.Failed},{r.RequestsPerSecond},{r.MinMs},{r.MeanMs},{r.MaxMs},{r.P50Ms},{r.P75Ms},{r.P95Ms},{r.P99Ms},{r.BytesReceived}");
        return csv.ToString();
    }

    private static string F(double ms) => ms.ToString("F2", Invariant);
}
