using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using ProLifeProsper.LoadTests.Engine;
using Spectre.Console;

namespace ProLifeProsper.LoadTests.Reporting;

/// <summary>A run's report: a console table, and Markdown, CSV, JSON and a self-contained HTML page with charts.</summary>
public sealed record LoadReport(DateTimeOffset StartedAt, string Machine, string Command, IReadOnlyList<ScenarioResult> Results, IReadOnlyList<string> Efficiency, IReadOnlyList<string> GateFailures);

public static class ReportWriter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Table ConsoleTable(IEnumerable<ScenarioResult> results)
    {
        var table = new Table().AddColumns("scenario @ configuration", "ok", "failed", "req/s", "min", "mean", "max", "p50", "p75", "p95", "p99 (ms)", "data");
        foreach (var r in results)
            table.AddRow(Markup.Escape(r.Name), r.Ok.ToString("N0", Invariant), r.Failed.ToString("N0", Invariant), r.RequestsPerSecond.ToString("N0", Invariant),
                F(r.MinMs), F(r.MeanMs), F(r.MaxMs), F(r.P50Ms), F(r.P75Ms), F(r.P95Ms), F(r.P99Ms), $"{r.BytesReceived / 1024.0 / 1024.0:F1} MB");
        return table;
    }

    public static string WriteAll(LoadReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "report.md"), Markdown(report));
        File.WriteAllText(Path.Combine(folder, "report.csv"), Csv(report.Results));
        File.WriteAllText(Path.Combine(folder, "report.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        File.WriteAllText(Path.Combine(folder, "report.html"), Html(report));
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

    private static string Html(LoadReport report)
    {
        var html = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>ProLifeProsper load test</title><style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}</style></head><body>");
        html.Append(Invariant, $"<h1>Load test {report.StartedAt:yyyy-MM-dd HH:mm} UTC</h1><p>{E(report.Machine)}<br><code>{E(report.Command)}</code></p>");
        html.Append("<table><tr><th>scenario @ configuration</th><th>ok</th><th>failed</th><th>req/s</th><th>mean</th><th>p50</th><th>p95</th><th>p99 (ms)</th></tr>");
        foreach (var r in report.Results)
            html.Append(Invariant, $"<tr><td>{E(r.Name)}</td><td>{r.Ok}</td><td>{r.Failed}</td><td>{r.RequestsPerSecond:F0}</td><td>{F(r.MeanMs)}</td><td>{F(r.P50Ms)}</td><td>{F(r.P95Ms)}</td><td>{F(r.P99Ms)}</td></tr>");
        html.Append("</table>");
        foreach (var e in report.Efficiency) html.Append(Invariant, $"<p>{E(e)}</p>");
        html.Append(LineChart("Requests per second over time", report.Results, s => s.Requests));
        html.Append(LineChart("p99 latency (ms) over time", report.Results, s => s.P99Ms));
        html.Append(PercentileBars(report.Results));
        html.Append(report.GateFailures.Count == 0 ? "<p>Gate: all thresholds met.</p>" : $"<p>Gate FAILED: {E(string.Join("; ", report.GateFailures))}</p>");
        return html.Append("</body></html>").ToString();
    }

    private static readonly string[] Colors = ["#2e86c1", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#17a589", "#7f8c8d", "#e74c3c"];

    private static string LineChart(string title, IReadOnlyList<ScenarioResult> results, Func<SecondSample, double> value)
    {
        const int width = 1000, height = 260, left = 50, bottom = 20;
        var max = Math.Max(1, results.SelectMany(r => r.Timeline).Select(value).DefaultIfEmpty(1).Max());
        var seconds = Math.Max(2, results.Select(r => r.Timeline.Count).DefaultIfEmpty(2).Max());
        var svg = new StringBuilder($"<h2>{E(title)}</h2><svg width=\"{width}\" height=\"{height + 40}\">");
        svg.Append(Invariant, $"<line x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width}\" y2=\"{height - bottom}\" stroke=\"#999\"/><text x=\"0\" y=\"12\" font-size=\"11\">{max:N0}</text>");
        for (var i = 0; i < results.Count; i++)
        {
            var points = string.Join(" ", results[i].Timeline.Select(s => string.Create(Invariant,
                $"{left + (width - left - 10) * s.Second / (double)(seconds - 1):F1},{(height - bottom) - (height - bottom - 10) * value(s) / max:F1}")));
            svg.Append(Invariant, $"<polyline fill=\"none\" stroke=\"{Colors[i % Colors.Length]}\" stroke-width=\"2\" points=\"{points}\"/>")
               .Append(Invariant, $"<text x=\"{left + i * 190}\" y=\"{height + 20}\" font-size=\"11\" fill=\"{Colors[i % Colors.Length]}\">{E(results[i].Name)}</text>");
        }
        return svg.Append("</svg>").ToString();
    }

    private static string PercentileBars(IReadOnlyList<ScenarioResult> results)
    {
        var percentiles = new (string Name, Func<ScenarioResult, double> Pick)[] { ("p50", r => r.P50Ms), ("p75", r => r.P75Ms), ("p95", r => r.P95Ms), ("p99", r => r.P99Ms) };
        var max = Math.Max(0.001, results.Select(r => r.P99Ms).DefaultIfEmpty(1).Max());
        const int barWidth = 14, groupGap = 30, height = 220;
        var width = 60 + percentiles.Length * (results.Count * barWidth + groupGap);
        var svg = new StringBuilder($"<h2>Latency percentiles across configurations (ms)</h2><svg width=\"{Math.Max(width, 400)}\" height=\"{height + 40}\">");
        for (var p = 0; p < percentiles.Length; p++)
        {
            var x0 = 40 + p * (results.Count * barWidth + groupGap);
            svg.Append(Invariant, $"<text x=\"{x0}\" y=\"{height + 15}\" font-size=\"11\">{percentiles[p].Name}</text>");
            for (var i = 0; i < results.Count; i++)
            {
                var h = (height - 20) * percentiles[p].Pick(results[i]) / max;
                svg.Append(Invariant, $"<rect x=\"{x0 + i * barWidth}\" y=\"{height - h:F1}\" width=\"{barWidth - 2}\" height=\"{h:F1}\" fill=\"{Colors[i % Colors.Length]}\"><title>{E(results[i].Name)}: {percentiles[p].Pick(results[i]):F2} ms</title></rect>");
            }
        }
        return svg.Append("</svg>").ToString();
    }

    private static string F(double ms) => ms.ToString("F2", Invariant);

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
