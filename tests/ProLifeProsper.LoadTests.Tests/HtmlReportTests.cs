using System.Text.Json;
using System.Text.RegularExpressions;
using ProLifeProsper.LoadTests.Engine;
using ProLifeProsper.LoadTests.Reporting;

namespace ProLifeProsper.LoadTests.Tests;

public sealed partial class HtmlReportTests
{
    private static readonly ScenarioResult Current = SampleResults.Run("create-payment", "current");
    private static readonly ScenarioResult DualWrite = SampleResults.Run("create-payment", "dual-write", failed: 30,
        new Dictionary<string, long> { ["201"] = 3_000, ["429"] = 20, ["HttpRequestException"] = 10 });
    private static readonly ScenarioResult Reads = SampleResults.Run("get-payment", "current", answers: new Dictionary<string, long> { ["200"] = 3_000 });

    private static string Render(params ScenarioResult[] results) =>
        HtmlReport.Render(new LoadReport(DateTimeOffset.UnixEpoch, "2 cores", "ProLifeProsper.LoadTests", results, [], []));

    [Fact]
    public void The_page_carries_Chart_js_itself_and_loads_nothing()
    {
        var html = Render(Current);

        Assert.Contains("Chart.js v4.6.1", html);
        Assert.Contains("Released under the MIT License", html);
        Assert.Contains(ChartJsLibrary.Script, html);
        Assert.DoesNotMatch(new Regex("<script[^>]+src=|<link[^>]+href=", RegexOptions.IgnoreCase), html);
    }

    [Fact]
    public void Every_chart_titles_both_axes_with_their_unit_and_labels_every_series()
    {
        var charts = Charts(Render(Current, DualWrite, Reads));

        Assert.NotEmpty(charts);
        foreach (var chart in charts)
        {
            var scales = chart.GetProperty("config").GetProperty("options").GetProperty("scales");
            foreach (var axis in new[] { "x", "y" })
            {
                var title = scales.GetProperty(axis).GetProperty("title");
                Assert.True(title.GetProperty("display").GetBoolean());
                Assert.Matches(@"\((s|ms|requests/s)\)$|phase$", title.GetProperty("text").GetString());
            }
            var legend = chart.GetProperty("config").GetProperty("options").GetProperty("plugins").GetProperty("legend");
            Assert.True(legend.GetProperty("display").GetBoolean());
            foreach (var dataset in chart.GetProperty("config").GetProperty("data").GetProperty("datasets").EnumerateArray())
                Assert.False(string.IsNullOrWhiteSpace(dataset.GetProperty("label").GetString()));
        }
    }

    [Fact]
    public void Two_configurations_of_a_scenario_are_compared_side_by_side_and_a_single_one_is_not()
    {
        var titles = Charts(Render(Current, DualWrite, Reads)).Select(c => c.GetProperty("config").GetProperty("options").GetProperty("plugins").GetProperty("title").GetProperty("text").GetString()).ToList();

        Assert.Equal(
        [
            "create-payment: throughput by configuration", "create-payment: latency percentiles by configuration", "create-payment: throughput over time",
            "create-payment @ current: latency percentiles over time", "create-payment @ dual-write: latency percentiles over time",
            "get-payment: throughput over time", "get-payment @ current: latency percentiles over time",
        ], titles);
    }

    [Fact]
    public void A_series_per_configuration_and_percentile_with_failures_only_where_there_were_some()
    {
        var charts = Charts(Render(Current, DualWrite));
        string[] Labels(string title) => [.. charts.Single(c => c.GetProperty("config").GetProperty("options").GetProperty("plugins").GetProperty("title").GetProperty("text").GetString() == title)
            .GetProperty("config").GetProperty("data").GetProperty("datasets").EnumerateArray().Select(d => d.GetProperty("label").GetString()!)];

        Assert.Equal(["current (requests/s)", "dual-write (requests/s)", "dual-write failed (requests/s)"], Labels("create-payment: throughput over time"));
        Assert.Equal(["p50 (ms)", "p95 (ms)", "p99 (ms)"], Labels("create-payment @ dual-write: latency percentiles over time"));
        Assert.Equal(["p50 (ms)", "p95 (ms)", "p99 (ms)"], Labels("create-payment: latency percentiles by configuration"));
        Assert.Equal(["throughput (requests/s)"], Labels("create-payment: throughput by configuration"));
    }

    [Fact]
    public void Each_scenario_has_its_own_section_with_answers_by_status_and_client_error()
    {
        var html = Render(Current, DualWrite, Reads);
        var sections = SectionPattern().Matches(html).ToDictionary(m => m.Groups["id"].Value, m => m.Groups["body"].Value);

        Assert.Equal(["scenario-create-payment", "scenario-get-payment"], sections.Keys);
        Assert.Contains("HTTP 429 TooManyRequests", sections["scenario-create-payment"]);
        Assert.Contains("client error: HttpRequestException", sections["scenario-create-payment"]);
        Assert.Contains("HTTP 200 OK", sections["scenario-get-payment"]);
        Assert.DoesNotContain("429", sections["scenario-get-payment"]);
    }

    private static List<JsonElement> Charts(string html)
    {
        var json = ChartConfigurations().Match(html);
        Assert.True(json.Success, "report.html has no chart configurations");
        var charts = JsonDocument.Parse(json.Groups[1].Value).RootElement.EnumerateArray().ToList();
        foreach (var chart in charts)
            Assert.Contains($"<canvas id=\"{chart.GetProperty("canvas").GetString()}\"", html);
        return charts;
    }

    [GeneratedRegex("<script type=\"application/json\" id=\"chart-configurations\">(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex ChartConfigurations();

    [GeneratedRegex("<section id=\"(?<id>[^\"]+)\">(?<body>.*?)</section>", RegexOptions.Singleline)]
    private static partial Regex SectionPattern();
}
