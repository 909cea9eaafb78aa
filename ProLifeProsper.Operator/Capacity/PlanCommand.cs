using System.CommandLine;
using System.Text.Json;
using ProLifeProsper.Api.Capacity;
using ProLifeProsper.Domain.Common;
using Spectre.Console;

namespace ProLifeProsper.Operator.Capacity;

/// <summary>
/// <c>plan [--monthly-transactions N] [--peak-tps N] [--organizations N] [--zipf S] [--spike-tps N] [--shards N]
/// [--reads-per-payment N] [--pending-share F] [--refund-share F] [--replay-share F] [--key-length N] [--retention-months N] [--seed N]
/// [--json] [--html FILE]</c>: DynamoDB capacity and cost for a traffic profile. Arithmetic only: no host, no store.
/// </summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var defaults = new TrafficProfile();
        var monthly = Number("--monthly-transactions", "Payments per month.", defaults.MonthlyTransactions);
        var peak = Number("--peak-tps", "Peak payments per second.", defaults.PeakTransactionsPerSecond);
        var organizations = Number("--organizations", "Organizations, Zipf-distributed in size.", defaults.Organizations);
        var zipf = Number("--zipf", "Zipf exponent of organization sizes.", defaults.ZipfExponent);
        var spike = Number("--spike-tps", "A spike's extra payments per second on top of the peak.", defaults.SpikeTransactionsPerSecond);
        var shards = Number("--shards", "Write shards of the pending index.", defaults.WriteShards);
        var reads = Number("--reads-per-payment", "Reads of each payment.", defaults.ReadsPerPayment);
        var views = Number("--campaign-views-per-payment", "Campaign progress reads (campaign GETs) per payment.", defaults.CampaignViewsPerPayment);
        var pending = Number("--pending-share", "Share of payments that stay pending (0 to 1).", defaults.PendingShare);
        var refunds = Number("--refund-share", "Share of payments refunded (0 to 1).", defaults.RefundShare);
        var replays = Number("--replay-share", "Share of requests that replay an idempotency key (0 to 1).", defaults.ReplayShare);
        var keyLength = Number("--key-length", "Idempotency key length in characters.", defaults.IdempotencyKeyLength);
        var retention = Number("--retention-months", "Months of payments kept.", defaults.RetentionMonths);
        var seed = Number("--seed", "Seed of the partition-heat simulation.", defaults.Seed);
        var json = new Option<bool>("--json") { Description = "Print the plan as JSON instead of tables." };
        var html = new Option<string?>("--html") { Description = "Also write the plan as an HTML page with charts to this file." };

        var plan = new Command("plan", "DynamoDB capacity units, partition heat and monthly cost for a traffic profile (arithmetic only).")
        {
            monthly, peak, organizations, zipf, spike, shards, reads, views, pending, refunds, replays, keyLength, retention, seed, json, html,
        };
        plan.SetAction(parse =>
        {
            var console = OperatorConsole.For(parse);
            var profile = defaults with
            {
                MonthlyTransactions = (long)parse.GetValue(monthly),
                PeakTransactionsPerSecond = parse.GetValue(peak),
                Organizations = (int)parse.GetValue(organizations),
                ZipfExponent = parse.GetValue(zipf),
                SpikeTransactionsPerSecond = parse.GetValue(spike),
                WriteShards = (int)parse.GetValue(shards),
                ReadsPerPayment = parse.GetValue(reads),
                CampaignViewsPerPayment = parse.GetValue(views),
                PendingShare = parse.GetValue(pending),
                RefundShare = parse.GetValue(refunds),
                ReplayShare = parse.GetValue(replays),
                IdempotencyKeyLength = (int)parse.GetValue(keyLength),
                RetentionMonths = (int)parse.GetValue(retention),
                Seed = (int)parse.GetValue(seed),
            };
            CapacityPlan result;
            try
            {
                result = CapacityPlanner.Plan(profile);
            }
            catch (DomainException e)
            {
                console.MarkupLineInterpolated($"[red]{e.Title}[/] {e.Message}");
                return 1;
            }
            if (parse.GetValue(json)) parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
            else CapacityReport.Write(result, console);
            if (parse.GetValue(html) is { } path)
            {
                File.WriteAllText(path, CapacityReport.Html(result));
                console.MarkupLineInterpolated($"HTML report: {Path.GetFullPath(path)}");
            }
            return 0;
        });
        return plan;
    }

    // Numbers as doubles, as the planner's profile reads them; the default shown in --help is the profile's own.
    private static Option<double> Number(string name, string description, double fallback) =>
        new(name) { Description = description, DefaultValueFactory = _ => fallback };
}
