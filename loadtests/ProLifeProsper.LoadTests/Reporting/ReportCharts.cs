using ProLifeProsper.LoadTests.Engine;

namespace ProLifeProsper.LoadTests.Reporting;

/// <summary>
/// Chart.js configurations (serialised to JSON as they are) for report.html: every axis has a title with its unit and every
/// series a legend label with its unit, so a chart reads without the text around it. Tooltips are Chart.js's own.
/// </summary>
public static class ReportCharts
{
    public const string TimeAxisTitle = "time since warm-up ended (s)";
    public const string ThroughputAxisTitle = "throughput (requests/s)";
    public const string LatencyAxisTitle = "latency (ms)";
    public const string ConfigurationAxisTitle = "configuration / migration phase";

    // Percentiles keep their colour in every chart; configurations take theirs from a palette without red, which marks failures.
    private static readonly (string Name, string Color, Func<SecondSample, double> OfSecond, Func<ScenarioResult, double> OfRun)[] Percentiles =
    [
        ("p50", "#2e86c1", s => s.P50Ms, r => r.P50Ms),
        ("p95", "#d68910", s => s.P95Ms, r => r.P95Ms),
        ("p99", "#c0392b", s => s.P99Ms, r => r.P99Ms),
    ];

    private const string ThroughputColor = "#5d6d7e";

    private static readonly string[] Palette = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

    public static string ColorOf(int index) => Palette[index % Palette.Length];

    /// <summary>Requests per second of each configuration over time, and its failures per second when it had any.</summary>
    public static object ThroughputOverTime(string scenario, IReadOnlyList<ScenarioResult> runs, Func<string, string> colorOf)
    {
        var datasets = new List<object>();
        foreach (var run in runs)
        {
            datasets.Add(Line($"{run.Configuration} (requests/s)", colorOf(run.Configuration), run.Timeline.Select(s => Point(s.Second, s.Requests))));
            if (run.Failed > 0)
                datasets.Add(Line($"{run.Configuration} failed (requests/s)", colorOf(run.Configuration), run.Timeline.Select(s => Point(s.Second, s.Errors)), dashed: true));
        }
        return LineChart($"{scenario}: throughput over time", ThroughputAxisTitle, datasets);
    }

    /// <summary>p50, p95 and p99 of one configuration, second by second.</summary>
    public static object LatencyOverTime(ScenarioResult run) =>
        LineChart($"{run.Name}: latency percentiles over time", LatencyAxisTitle,
            [.. Percentiles.Select(p => Line($"{p.Name} (ms)", p.Color, run.Timeline.Where(s => s.Requests > 0).Select(s => Point(s.Second, p.OfSecond(s)))))]);

    /// <summary>Throughput of the configurations side by side.</summary>
    public static object ThroughputByConfiguration(string scenario, IReadOnlyList<ScenarioResult> runs) =>
        BarChart($"{scenario}: throughput by configuration", ThroughputAxisTitle, runs,
            [new { label = "throughput (requests/s)", data = runs.Select(r => r.RequestsPerSecond).ToArray(), backgroundColor = ThroughputColor }]);

    /// <summary>p50, p95 and p99 of the configurations side by side.</summary>
    public static object LatencyByConfiguration(string scenario, IReadOnlyList<ScenarioResult> runs) =>
        BarChart($"{scenario}: latency percentiles by configuration", LatencyAxisTitle, runs,
            [.. Percentiles.Select(p => new { label = $"{p.Name} (ms)", data = runs.Select(p.OfRun).ToArray(), backgroundColor = p.Color })]);

    private static object Point(int second, double value) => new { x = second, y = value };

    private static object Line(string label, string color, IEnumerable<object> points, bool dashed = false) => new
    {
        label,
        data = points.ToArray(),
        borderColor = color,
        backgroundColor = color,
        borderWidth = 2,
        borderDash = dashed ? new[] { 6, 4 } : null,
        pointRadius = 2,
    };

    private static object LineChart(string title, string valueAxisTitle, IReadOnlyList<object> datasets) => new
    {
        type = "line",
        data = new { datasets },
        options = Options(title, new
        {
            x = new { type = "linear", min = 0, title = AxisTitle(TimeAxisTitle), ticks = new { precision = 0 } },
            y = new { beginAtZero = true, title = AxisTitle(valueAxisTitle) },
        }),
    };

    private static object BarChart(string title, string valueAxisTitle, IReadOnlyList<ScenarioResult> runs, IReadOnlyList<object> datasets) => new
    {
        type = "bar",
        data = new { labels = runs.Select(r => r.Configuration).ToArray(), datasets },
        options = Options(title, new
        {
            x = new { title = AxisTitle(ConfigurationAxisTitle) },
            y = new { beginAtZero = true, title = AxisTitle(valueAxisTitle) },
        }),
    };

    // No animation: the report is read, often printed or captured, and a chart should be complete when the page is.
    private static object Options(string title, object scales) => new
    {
        animation = false,
        responsive = true,
        maintainAspectRatio = false,
        interaction = new { mode = "index", intersect = false },
        plugins = new { title = new { display = true, text = title }, legend = new { display = true, position = "bottom" } },
        scales,
    };

    private static object AxisTitle(string text) => new { display = true, text };
}
