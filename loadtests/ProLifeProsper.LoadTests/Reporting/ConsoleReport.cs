using System.Globalization;
using System.Text;
using ProLifeProsper.LoadTests.Engine;
using Spectre.Console;

namespace ProLifeProsper.LoadTests.Reporting;

/// <summary>
/// The results on the console: Spectre's boxed table on a terminal; a plain fixed-width table when the output is a file,
/// a pipe or a CI log, where Spectre assumes 80 columns and wraps each 12-column row over several lines.
/// </summary>
public static class ConsoleReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private const int UnwrappedWidth = 1_000;

    private static readonly string[] Headers = ["scenario @ configuration", "ok", "failed", "req/s", "min", "mean", "max", "p50", "p75", "p95", "p99 (ms)", "data"];

    /// <summary>True when the output is not a terminal a person watches.</summary>
    public static bool IsPlain(IAnsiConsole console) => Console.IsOutputRedirected || !console.Profile.Out.IsTerminal || !console.Profile.Capabilities.Interactive;

    /// <summary>Off a terminal, lets the lines written through Spectre run as long as they are instead of wrapping them at 80 columns.</summary>
    public static void Unwrap(IAnsiConsole console)
    {
        if (IsPlain(console)) console.Profile.Width = UnwrappedWidth;
    }

    public static void Write(IAnsiConsole console, IEnumerable<ScenarioResult> results)
    {
        if (IsPlain(console))
        {
            // Straight to the writer: Spectre would wrap the lines at its assumed width.
            console.Profile.Out.Writer.Write(PlainTable(results));
            console.Profile.Out.Writer.Flush();
        }
        else console.Write(PrettyTable(results));
    }

    public static Table PrettyTable(IEnumerable<ScenarioResult> results)
    {
        var table = new Table().AddColumns([.. Headers.Select((h, i) => i == 0 ? new TableColumn(h) : new TableColumn(h).RightAligned())]);
        foreach (var row in results.Select(Cells)) table.AddRow([Markup.Escape(row[0]), .. row[1..]]);
        return table;
    }

    /// <summary>A header, a dashed rule and one line per result; columns as wide as their widest cell, numbers right-aligned, ASCII only.</summary>
    public static string PlainTable(IEnumerable<ScenarioResult> results)
    {
        var rows = results.Select(Cells).ToList();
        var widths = Headers.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        string Line(IReadOnlyList<string> cells) =>
            string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd();
        var text = new StringBuilder();
        text.AppendLine(Line(Headers)).AppendLine(Line([.. widths.Select(w => new string('-', w))]));
        foreach (var row in rows) text.AppendLine(Line(row));
        return text.ToString();
    }

    private static string[] Cells(ScenarioResult r) =>
    [
        r.Name, r.Ok.ToString("N0", Invariant), r.Failed.ToString("N0", Invariant), r.RequestsPerSecond.ToString("N0", Invariant),
        F(r.MinMs), F(r.MeanMs), F(r.MaxMs), F(r.P50Ms), F(r.P75Ms), F(r.P95Ms), F(r.P99Ms), string.Create(Invariant, $"{r.BytesReceived / 1048576.0:F1} MB"),
    ];

    private static string F(double ms) => ms.ToString("F2", Invariant);
}
