using ProLifeProsper.LoadTests.Reporting;

namespace ProLifeProsper.LoadTests.Tests;

public sealed class ConsoleReportTests
{
    [Fact]
    public void The_plain_table_has_a_header_a_rule_and_one_unwrapped_line_per_scenario_without_box_drawing()
    {
        var results = new[] { SampleResults.Run("create-payment", "current"), SampleResults.Run("create-payment", "dynamo-primary"), SampleResults.Run("raw-group-commit", "postgresql") };

        var lines = ConsoleReport.PlainTable(results).Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(2 + results.Length, lines.Length);
        Assert.StartsWith("scenario @ configuration", lines[0]);
        Assert.Matches("^[- ]+$", lines[1]);
        for (var i = 0; i < results.Length; i++)
            Assert.StartsWith(results[i].Name, lines[2 + i]);
        Assert.True(lines[2].Length > 80, "a row of 12 columns is wider than 80 characters and is kept on one line");
        Assert.All(lines, line => Assert.DoesNotContain(line, c => c is >= '\u2500' and <= '\u257F' || c > '\u007F'));
    }

    [Fact]
    public void The_columns_line_up()
    {
        var lines = ConsoleReport.PlainTable([SampleResults.Run("create-payment", "current"), SampleResults.Run("get-payment", "highScale", failed: 123_456)])
            .Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

        // Every column is right-aligned after the first, so each line ends at the same place and "p99 (ms)" sits over the p99 values.
        Assert.All(lines, line => Assert.Equal(lines[0].Length, line.Length));
        var p99End = lines[0].IndexOf("p99 (ms)", StringComparison.Ordinal) + "p99 (ms)".Length;
        Assert.All(lines.Skip(2), line => Assert.Equal("9.00", line[(p99End - 4)..p99End]));
    }
}
