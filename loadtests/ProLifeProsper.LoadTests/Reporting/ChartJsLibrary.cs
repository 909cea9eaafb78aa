namespace ProLifeProsper.LoadTests.Reporting;

/// <summary>Chart.js's minified UMD build, embedded in this assembly (see Reporting/ChartJs/README.md) so report.html needs no network.</summary>
public static class ChartJsLibrary
{
    private const string ResourceName = "ProLifeProsper.LoadTests.Reporting.ChartJs.chart.umd.min.js";

    private static readonly Lazy<string> Source = new(() =>
    {
        using var stream = typeof(ChartJsLibrary).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the load-test assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>The library's JavaScript, licence header included.</summary>
    public static string Script => Source.Value;
}
