using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace ProLifeProsper.Api.Capacity;

/// <summary>
/// <c>plan [--monthly-transactions N] [--peak-tps N] [--organizations N] [--zipf S] [--spike-tps N] [--shards N]
/// [--reads-per-payment N] [--pending-share F] [--refund-share F] [--replay-share F] [--key-length N] [--retention-months N] [--seed N]
/// [--json] [--html FILE]</c>.
/// Options are parsed by hand: a dozen numbers do not need a parser library.
/// </summary>
public static class CapacityCommand
{
    public static int Run(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
            if (args[i].StartsWith("--", StringComparison.Ordinal)) options[args[i][2..]] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";

        double Number(string name, double fallback) =>
            options.TryGetValue(name, out var text) ? double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture) : fallback;

        var defaults = new TrafficProfile();
        var profile = defaults with
        {
            MonthlyTransactions = (long)Number("monthly-transactions", defaults.MonthlyTransactions),
            PeakTransactionsPerSecond = Number("peak-tps", defaults.PeakTransactionsPerSecond),
            Organizations = (int)Number("organizations", defaults.Organizations),
            ZipfExponent = Number("zipf", defaults.ZipfExponent),
            SpikeTransactionsPerSecond = Number("spike-tps", defaults.SpikeTransactionsPerSecond),
            WriteShards = (int)Number("shards", defaults.WriteShards),
            ReadsPerPayment = Number("reads-per-payment", defaults.ReadsPerPayment),
            PendingShare = Number("pending-share", defaults.PendingShare),
            RefundShare = Number("refund-share", defaults.RefundShare),
            ReplayShare = Number("replay-share", defaults.ReplayShare),
            IdempotencyKeyLength = (int)Number("key-length", defaults.IdempotencyKeyLength),
            RetentionMonths = (int)Number("retention-months", defaults.RetentionMonths),
            Seed = (int)Number("seed", defaults.Seed),
        };

        var plan = CapacityPlanner.Plan(profile);
        if (options.ContainsKey("json")) Console.WriteLine(JsonSerializer.Serialize(plan, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        else CapacityReport.Write(plan, AnsiConsole.Console);
        if (options.TryGetValue("html", out var path))
        {
            File.WriteAllText(path, CapacityReport.Html(plan));
            AnsiConsole.MarkupLineInterpolated($"HTML report: {Path.GetFullPath(path)}");
        }
        return 0;
    }
}
