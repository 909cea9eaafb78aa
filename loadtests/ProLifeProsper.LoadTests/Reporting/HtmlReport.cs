using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ProLifeProsper.LoadTests.Engine;

namespace ProLifeProsper.LoadTests.Reporting;

/// <summary>
/// report.html: one self-contained page (Chart.js inlined, no network) with the summary, then one section per scenario
/// holding its numbers, its answers by HTTP status or client error, and its charts, configurations side by side.
/// </summary>
public static class HtmlReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    // The default encoder escapes <, > and &, so the JSON can sit inside a <script> element as it is.
    private static readonly JsonSerializerOptions ChartJson = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private const string Style = """
        body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1400px;padding:0 1em;color:#222}
        table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
        th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
        section{border-top:2px solid #ddd;margin-top:2em}
        .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:1.5em}
        .chart{position:relative;height:340px}
        .pass{color:#1e7d32}.fail{color:#c0392b;font-weight:bold}
        """;

    // A slightly larger font than Chart.js's 12 px, and tooltips that name the second they cover; the rest is in the JSON configurations.
    private const string Script = """
        Chart.defaults.font.size = 13;
        for (const chart of JSON.parse(document.getElementById('chart-configurations').textContent)) {
          if (chart.config.options.scales.x.type === 'linear')
            chart.config.options.plugins.tooltip = { callbacks: { title: items => items.length ? `${items[0].parsed.x}–${items[0].parsed.x + 1} s after warm-up` : '' } };
          new Chart(document.getElementById(chart.canvas), chart.config);
        }
        """;

    public static string Render(LoadReport report)
    {
        var charts = new List<object>();
        var configurations = report.Results.Select(r => r.Configuration).Distinct().ToList();
        string ColorOf(string configuration) => ReportCharts.ColorOf(configurations.IndexOf(configuration));
        var html = new StringBuilder();

        void Chart(object config)
        {
            var canvas = $"chart-{charts.Count + 1}";
            charts.Add(new { canvas, config });
            html.Append(Invariant, $"<div class=\"chart\"><canvas id=\"{canvas}\" role=\"img\"></canvas></div>");
        }

        html.Append(Invariant, $"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ProLifeProsper load test {report.StartedAt:yyyy-MM-dd HH:mm} UTC</title><style>{Style}</style></head><body>");
        html.Append(Invariant, $"<h1>Load test {report.StartedAt:yyyy-MM-dd HH:mm} UTC</h1><p>{E(report.Machine)}<br><code>{E(report.Command)}</code></p>");
        html.Append(report.GateFailures.Count == 0
            ? "<p class=\"pass\">Gate: all thresholds met.</p>"
            : $"<p class=\"fail\">Gate FAILED:</p><ul>{string.Concat(report.GateFailures.Select(f => $"<li>{E(f)}</li>"))}</ul>");

        html.Append("<h2>Summary</h2><table><tr><th>scenario @ configuration</th><th>ok</th><th>failed</th><th>req/s</th><th>mean (ms)</th><th>p50 (ms)</th><th>p95 (ms)</th><th>p99 (ms)</th></tr>");
        foreach (var r in report.Results)
            html.Append(Invariant, $"<tr><td><a href=\"#{Anchor(r.Scenario)}\">{E(r.Name)}</a></td><td>{r.Ok:N0}</td><td>{r.Failed:N0}</td><td>{r.RequestsPerSecond:N0}</td><td>{r.MeanMs:F2}</td><td>{r.P50Ms:F2}</td><td>{r.P95Ms:F2}</td><td>{r.P99Ms:F2}</td></tr>");
        html.Append("</table>");
        if (report.Efficiency.Count > 0)
            html.Append("<h2>API efficiency</h2><ul>").AppendJoin("", report.Efficiency.Select(e => $"<li>{E(e)}</li>")).Append("</ul>");

        foreach (var scenario in report.Results.GroupBy(r => r.Scenario))
        {
            var runs = scenario.ToList();
            html.Append(Invariant, $"<section id=\"{Anchor(scenario.Key)}\"><h2>{E(scenario.Key)}</h2>");
            NumbersTable(html, runs);
            AnswersTable(html, runs);
            html.Append("<div class=\"charts\">");
            if (runs.Count > 1)
            {
                Chart(ReportCharts.ThroughputByConfiguration(scenario.Key, runs));
                Chart(ReportCharts.LatencyByConfiguration(scenario.Key, runs));
            }
            Chart(ReportCharts.ThroughputOverTime(scenario.Key, runs, ColorOf));
            foreach (var run in runs) Chart(ReportCharts.LatencyOverTime(run));
            html.Append("</div></section>");
        }

        html.Append("<script>").Append(ChartJsLibrary.Script).Append("</script>");
        html.Append("<script type=\"application/json\" id=\"chart-configurations\">").Append(JsonSerializer.Serialize(charts, ChartJson)).Append("</script>");
        html.Append("<script>").Append(Script).Append("</script>");
        return html.Append("</body></html>").ToString();
    }

    private static void NumbersTable(StringBuilder html, IReadOnlyList<ScenarioResult> runs)
    {
        html.Append("<table><tr><th>configuration</th><th>model</th><th>VUs</th><th>measured (s)</th><th>ok</th><th>failed</th><th>error rate</th><th>req/s</th>"
            + "<th>min (ms)</th><th>mean (ms)</th><th>max (ms)</th><th>p50 (ms)</th><th>p75 (ms)</th><th>p95 (ms)</th><th>p99 (ms)</th><th>received (MB)</th></tr>");
        foreach (var r in runs)
            html.Append(Invariant, $"<tr><td>{E(r.Configuration)}</td><td>{E(r.Model)}</td><td>{r.VirtualUsers}</td><td>{r.DurationSeconds:N0}</td><td>{r.Ok:N0}</td><td>{r.Failed:N0}</td><td>{r.ErrorRate:P2}</td>"
                + $"<td>{r.RequestsPerSecond:N0}</td><td>{r.MinMs:F2}</td><td>{r.MeanMs:F2}</td><td>{r.MaxMs:F2}</td><td>{r.P50Ms:F2}</td><td>{r.P75Ms:F2}</td><td>{r.P95Ms:F2}</td><td>{r.P99Ms:F2}</td><td>{r.BytesReceived / 1048576.0:F1}</td></tr>");
        html.Append("</table>");
    }

    /// <summary>Answers as rows and configurations as columns, so a refusal that only one phase gets stands out.</summary>
    private static void AnswersTable(StringBuilder html, IReadOnlyList<ScenarioResult> runs)
    {
        var answers = runs.SelectMany(r => r.Answers.Keys).Distinct().OrderBy(a => a, StringComparer.Ordinal).ToList();
        html.Append("<table><tr><th>answer (HTTP status or client error)</th>").AppendJoin("", runs.Select(r => $"<th>{E(r.Configuration)}</th>")).Append("</tr>");
        foreach (var answer in answers)
            html.Append(Invariant, $"<tr><td>{E(Describe(answer))}</td>").AppendJoin("", runs.Select(r => string.Create(Invariant, $"<td>{r.Answers.GetValueOrDefault(answer):N0}</td>"))).Append("</tr>");
        html.Append("</table>");
    }

    /// <summary>"201 Created" for an HTTP status; an exception's name is a client error (no answer came back); a store call's ok/failed stays as it is.</summary>
    private static string Describe(string answer) =>
        int.TryParse(answer, NumberStyles.None, Invariant, out var status)
            ? Enum.IsDefined((HttpStatusCode)status) ? $"HTTP {status} {(HttpStatusCode)status}" : $"HTTP {status}"
        : answer is "ok" or "failed" ? answer
        : $"client error: {answer}";

    private static string Anchor(string scenario) => "scenario-" + string.Concat(scenario.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-'));

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
