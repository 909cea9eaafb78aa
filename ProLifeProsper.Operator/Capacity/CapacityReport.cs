using System.Globalization;
using System.Net;
using System.Text;
using ProLifeProsper.Api.Capacity;
using Spectre.Console;

namespace ProLifeProsper.Operator.Capacity;

/// <summary>A plan as console tables, and as a self-contained HTML page with charts (inline SVG, no scripts).</summary>
public static class CapacityReport
{
    public static void Write(CapacityPlan plan, IAnsiConsole console)
    {
        var p = plan.Profile;
        console.MarkupLineInterpolated($"[bold]Capacity plan[/]: {p.MonthlyTransactions:N0} payments/month, peak {p.PeakTransactionsPerSecond:N0}/s, {p.Organizations:N0} organizations (Zipf {p.ZipfExponent}), spike +{p.SpikeTransactionsPerSecond:N0}/s");
        console.MarkupLineInterpolated($"Item sizes ({Sizes(plan.ItemSizes)}");

        var units = new Table().Title("Capacity units per operation").AddColumns("operation", "write units", "read units", "how");
        foreach (var u in plan.UnitsPerOperation) units.AddRow(Markup.Escape(u.Operation), u.WriteUnits.ToString(CultureInfo.InvariantCulture), u.ReadUnits.ToString(CultureInfo.InvariantCulture), Markup.Escape(u.HowComputed));
        console.Write(units);
        console.MarkupLineInterpolated($"[italic]Longest keys ({Sizes(plan.WorstCaseItemSizes)}: {Markup.Escape(WorstCase(plan))}.[/]");

        var c = plan.Cost;
        var pools = new Table().Title($"Per table and index (peak {p.PeakTransactionsPerSecond + p.SpikeTransactionsPerSecond:N0} payments/s with the spike)")
            .AddColumns("table / index", "write units / payment", "read units / payment", "peak WCU/s", "peak RCU/s", "provisioned WCU", "provisioned RCU");
        foreach (var pool in c.Pools)
            pools.AddRow(Markup.Escape(pool.Pool), N(pool.WriteUnitsPerPayment, "0.###"), N(pool.ReadUnitsPerPayment, "0.###"), N(pool.PeakWriteUnitsPerSecond, "N0"),
                N(pool.PeakReadUnitsPerSecond, "N0"), pool.ProvisionedWriteCapacityUnits.ToString("N0", CultureInfo.InvariantCulture), pool.ProvisionedReadCapacityUnits.ToString("N0", CultureInfo.InvariantCulture));
        console.Write(pools);
        var costs = new Table().Title($"Monthly cost (prices {plan.PricesAsOf}, us-east-1)").AddColumns("mode", "USD / month", "WCU", "RCU", "serves peak", "notes");
        foreach (var m in c.Modes)
            costs.AddRow(Markup.Escape(m.Mode) + (m.Mode == c.Recommended ? " [green](recommended)[/]" : ""), m.MonthlyUsd.ToString("N2", CultureInfo.InvariantCulture),
                m.WriteCapacityUnits.ToString("N0", CultureInfo.InvariantCulture), m.ReadCapacityUnits.ToString("N0", CultureInfo.InvariantCulture), m.ServesPeak ? "yes" : "[red]no[/]", Markup.Escape(m.Notes));
        console.Write(costs);
        console.MarkupLineInterpolated($"Per payment: {c.WriteUnitsPerPayment} write + {c.ReadUnitsPerPayment} read units; peak (with the spike) {c.PeakWriteUnitsPerSecond:N0} WCU/s, {c.PeakReadUnitsPerSecond:N0} RCU/s; storage {c.StorageGb:N1} GB (${c.StorageMonthlyUsd:N2}/month); PostgreSQL for comparison ${c.PostgresMonthlyUsd:N0}/month.");
        console.MarkupLineInterpolated($"[italic]{c.DesignGuideComparison}[/]");

        var h = plan.PartitionHeat;
        var heat = new Table().Title("Hottest partitions (writes/s in the hottest simulated second; limit 1,000 WCU/s per partition)").AddColumns("table / index", "partition key", "WCU/s", "over limit", "advice");
        foreach (var l in h.Partitions)
            heat.AddRow(Markup.Escape(l.Target), Markup.Escape(l.PartitionKey), l.PeakWriteUnitsPerSecond.ToString("N0", CultureInfo.InvariantCulture), l.OverLimit ? "[red]yes[/]" : "no", Markup.Escape(l.Advice));
        console.Write(heat);
        var v = plan.CampaignViews;
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Campaign progress of the largest organization: {v.ViewsPerSecond:N0} views/s × {v.ReadUnitsPerView:0.##} read units from its aggregates key = {v.ReadUnitsPerSecond:N0} RCU/s (limit {v.LimitReadUnitsPerSecond:N0}), and × {v.OpenWindowReadUnitsPerView:N0} read units of its open window's payments = {v.OpenWindowReadUnitsPerSecond:N0} RCU/s on its transactions keys (limit {v.OpenWindowLimitReadUnitsPerSecond:N0})"))
            + (v.OverLimit ? " [red]over[/]" : "") + ". " + Markup.Escape(v.Advice));
        console.MarkupLineInterpolated($"Shards needed for the pending index: {h.ShardsNeeded}; splits needed for the largest organization ({h.LargestOrganizationTransactionsPerSecond:N0} payments/s): {h.HotOrganizationSplitsNeeded}; organizations over one partition: {h.OrganizationsOverLimit}.");

        var after = new Table().Title("With the recommendation applied (same arrivals, same key code)").AddColumns("table / index", "hottest partition key", "WCU/s", "over limit");
        foreach (var l in h.PartitionsRecommended)
            after.AddRow(Markup.Escape(l.Target), Markup.Escape(l.PartitionKey), l.PeakWriteUnitsPerSecond.ToString("N0", CultureInfo.InvariantCulture), l.OverLimit ? "[red]yes[/]" : "no");
        console.Write(after);
        console.WriteLine("Configuration (appsettings.json):");
        console.WriteLine(plan.RecommendedConfiguration);
        foreach (var split in h.OrganizationSplits)
            console.WriteLine($"Organization #{split.Rank} ({split.TransactionsPerSecond:N0} payments/s): PUT /api/admin/organizations/{{id}}/payment-shards {{\"shards\": {split.Shards}}}");
    }


    private static string Sizes(CapacityUnits.ItemSizes s) =>
        $"keys of {s.IdempotencyKeyLength} characters): payment {s.Payment} B (pending {s.PendingPayment} B, settled {s.SettledPayment} B, refunded {s.RefundedPayment} B), "
        + $"create record {s.IdempotencyRecord} B, refund record {s.RefundRecord} B; index entries: transactionId {s.TransactionIdIndexEntry} B, pending {s.StatusIndexEntry} B";

    /// <summary>The operations whose units the longest keys change.</summary>
    private static string WorstCase(CapacityPlan plan)
    {
        var changed = plan.WorstCaseUnitsPerOperation.Zip(plan.UnitsPerOperation)
            .Where(x => x.First.WriteUnits != x.Second.WriteUnits || x.First.ReadUnits != x.Second.ReadUnits)
            .Select(x => $"{x.First.Operation} {N(x.First.WriteUnits, "0.###")} W / {N(x.First.ReadUnits, "0.###")} R").ToList();
        return changed.Count == 0 ? "no operation costs more" : string.Join("; ", changed);
    }

    private static string N(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Html(CapacityPlan plan)
    {
        var h = plan.PartitionHeat;
        var html = new StringBuilder();
        html.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>ProLifeProsper capacity plan</title><style>")
            .Append("body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f3f3f3}.bad{color:#b00}")
            .Append("</style></head><body><h1>Capacity plan</h1>");
        html.Append(CultureInfo.InvariantCulture, $"<p>{plan.Profile.MonthlyTransactions:N0} payments/month, peak {plan.Profile.PeakTransactionsPerSecond:N0}/s, {plan.Profile.Organizations:N0} organizations. Prices {E(plan.PricesAsOf)}: {E(plan.PricesSource)}.</p>");
        html.Append("<h2>Monthly cost</h2><table><tr><th>mode</th><th>USD/month</th><th>WCU</th><th>RCU</th><th>serves peak</th><th>notes</th></tr>");
        foreach (var m in plan.Cost.Modes)
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(m.Mode)}{(m.Mode == plan.Cost.Recommended ? " <b>(recommended)</b>" : "")}</td><td>{m.MonthlyUsd:N2}</td><td>{m.WriteCapacityUnits:N0}</td><td>{m.ReadCapacityUnits:N0}</td><td>{(m.ServesPeak ? "yes" : "<span class=bad>no</span>")}</td><td>{E(m.Notes)}</td></tr>");
        html.Append("</table>").Append(CultureInfo.InvariantCulture, $"<p>{E(plan.Cost.DesignGuideComparison)}</p>");
        html.Append("<h2>Units per operation</h2><table><tr><th>operation</th><th>write</th><th>read</th><th>how</th></tr>");
        foreach (var u in plan.UnitsPerOperation) html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(u.Operation)}</td><td>{u.WriteUnits}</td><td>{u.ReadUnits}</td><td>{E(u.HowComputed)}</td></tr>");
        html.Append("</table><h2>Per table and index</h2><table><tr><th>table / index</th><th>write units / payment</th><th>read units / payment</th><th>peak WCU/s</th><th>peak RCU/s</th><th>provisioned WCU</th><th>provisioned RCU</th></tr>");
        foreach (var p in plan.Cost.Pools)
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(p.Pool)}</td><td>{p.WriteUnitsPerPayment}</td><td>{p.ReadUnitsPerPayment}</td><td>{p.PeakWriteUnitsPerSecond:N0}</td><td>{p.PeakReadUnitsPerSecond:N0}</td><td>{p.ProvisionedWriteCapacityUnits:N0}</td><td>{p.ProvisionedReadCapacityUnits:N0}</td></tr>");
        html.Append("</table><h2>Partition heat</h2>");
        html.Append(Bars("Largest organizations: WCU/s on their base-table partition (hottest second)", h.TopOrganizationWriteUnits, PartitionHeatSimulation.PartitionWriteLimit));
        html.Append(Bars($"status-timestamp-index (pending), {h.PendingShardWriteUnits.Count} shards: WCU/s per shard (hottest second)", h.PendingShardWriteUnits, PartitionHeatSimulation.PartitionWriteLimit));
        html.Append("<table><tr><th>table / index</th><th>partition key</th><th>WCU/s</th><th>advice</th></tr>");
        foreach (var l in h.Partitions)
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(l.Target)}</td><td>{E(l.PartitionKey)}</td><td{(l.OverLimit ? " class=bad" : "")}>{l.PeakWriteUnitsPerSecond:N0}</td><td>{E(l.Advice)}</td></tr>");
        html.Append("</table><h2>With the recommendation applied</h2>");
        html.Append(CultureInfo.InvariantCulture, $"<p>Configuration (appsettings.json):</p><pre>{E(plan.RecommendedConfiguration)}</pre><p>Organization splits: {E(string.Join(", ", h.OrganizationSplits.Select(x => $"#{x.Rank}: {x.Shards}")))}.</p>");
        html.Append(Bars($"status-timestamp-index (pending), {h.PendingShardWriteUnitsRecommended.Count} shards: WCU/s per shard (hottest second)", h.PendingShardWriteUnitsRecommended, PartitionHeatSimulation.PartitionWriteLimit));
        html.Append("<table><tr><th>table / index</th><th>hottest partition key</th><th>WCU/s</th></tr>");
        foreach (var l in h.PartitionsRecommended)
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(l.Target)}</td><td>{E(l.PartitionKey)}</td><td{(l.OverLimit ? " class=bad" : "")}>{l.PeakWriteUnitsPerSecond:N0}</td></tr>");
        html.Append("</table></body></html>");
        return html.ToString();
    }

    // A horizontal bar per value, with the partition limit as a red line.
    private static string Bars(string title, IReadOnlyList<double> values, double limit)
    {
        const int width = 900, barHeight = 16, labelWidth = 60;
        var max = Math.Max(limit * 1.2, values.DefaultIfEmpty(0).Max());
        var height = values.Count * (barHeight + 4) + 30;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<h3>{E(title)}</h3><svg width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{E(title)}\">");
        for (var i = 0; i < values.Count; i++)
        {
            var w = (width - labelWidth - 80) * values[i] / max;
            var y = i * (barHeight + 4);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{y + 12}\" font-size=\"11\">#{i + 1}</text><rect x=\"{labelWidth}\" y=\"{y}\" width=\"{w:F1}\" height=\"{barHeight}\" fill=\"{(values[i] > limit ? "#c0392b" : "#2e86c1")}\"/>")
               .Append(CultureInfo.InvariantCulture, $"<text x=\"{labelWidth + w + 4:F1}\" y=\"{y + 12}\" font-size=\"11\">{values[i]:N0}</text>");
        }
        var lx = labelWidth + (width - labelWidth - 80) * limit / max;
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{lx:F1}\" y1=\"0\" x2=\"{lx:F1}\" y2=\"{height - 20}\" stroke=\"red\" stroke-dasharray=\"4\"/><text x=\"{lx + 4:F1}\" y=\"{height - 6}\" font-size=\"11\" fill=\"red\">1,000 WCU/s partition limit</text></svg>");
        return svg.ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
