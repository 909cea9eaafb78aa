using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using HdrHistogram;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.LoadTests.Targets;
using ProLifeProsper.LocalInfrastructure;
using Spectre.Console;

namespace ProLifeProsper.LoadTests.Scale;

/// <summary>
/// The DynamoDB design at scale: a dedicated on-disk dynalite holds <c>payments</c> payments of <c>organizations</c>
/// organizations (Zipf sizes, spread over the last 30 days), loaded with the API's mapper; then the API (highScale) is asked
/// for a payment, the first page of the list, the campaign and 7 days of hourly analytics, for the largest organization and
/// for a small one, one request at a time, and p50/p99 are reported side by side. With <c>recentRate</c> the largest
/// organization also took that many payments a second over the last hour (a telethon under way): what its campaign and
/// analytics requests read live grows with that rate, not with its history.
/// </summary>
public static class ScaleRun
{
    private const string AdminKey = "scale-admin-key";
    private static readonly string[] Operations = ["get payment", "list payments (first page of 50)", "campaign (with progress)", "hourly analytics, 7 days"];

    public static async Task<int> RunAsync(int payments, int organizations, int samples, int recentRate, string output, CancellationToken cancellationToken)
    {
        var postgres = await PostgresServer.GetAsync();
        await using var dynalite = await DynaliteServer.StartDedicatedAsync();
        var prefix = DynaliteServer.NewTablePrefix("scale");
        var options = new DynamoDbOptions { TablePrefix = prefix };
        AnsiConsole.MarkupLine("[bold]Starting the API (highScale)[/]");
        await using var api = await LoadTestApi.StartAsync("highScale", postgres.ConnectionStringFor(PostgresServer.NewDatabaseName("scale")), dynalite.ServiceUrl, AdminKey,
            // The loaded history's pending bank transfers (5%, up to 30 days old) are not swept while reads are measured: a
            // one-off sweep of 50,000 month-old transfers marks hours of every organization as it goes (docs/dynamodb.md
            // gives what a settlement's mark costs the next reads).
            [$"DynamoDb__TablePrefix={prefix}", "Payments__Settlement__Delay=31.00:00:00"]);

        var large = await Tenant.CreateAsync(api.Url, "Telethon (largest)");
        var small = await Tenant.CreateAsync(api.Url, "Parish (small)");
        var weights = Enumerable.Range(1, organizations).Select(i => 1.0 / i).ToArray();
        var total = weights.Sum();
        var smallRank = organizations / 2;
        var random = new Random(12_000);
        var now = DateTimeOffset.UtcNow;
        var sampled = new Dictionary<Tenant, List<Guid>> { [large] = [], [small] = [] };
        // Succeeded payments each tenant can refund, newest last: the large organization's from its last hour (the telethon's).
        var refundable = new Dictionary<Tenant, List<(Guid Id, DateTimeOffset CreatedAt)>> { [large] = [], [small] = [] };

        IEnumerable<PaymentTransaction> Generate()
        {
            for (var rank = 0; rank < organizations; rank++)
            {
                var tenant = rank == 0 ? large : rank == smallRank ? small : null;
                var organization = tenant?.Id ?? Guid.CreateVersion7();
                var campaign = tenant?.Campaign ?? Guid.CreateVersion7();
                var donor = tenant?.Donor ?? Guid.CreateVersion7();
                var count = Math.Max(1, (int)Math.Round(payments * weights[rank] / total));
                var recent = rank == 0 ? recentRate * 3_600 : 0;
                for (var i = 0; i < count + recent; i++)
                {
                    var age = i < count ? TimeSpan.FromDays(30) : TimeSpan.FromHours(1);
                    var createdAt = now.AddMilliseconds(-random.NextInt64((long)age.TotalMilliseconds));
                    createdAt = DateTimeOffset.FromUnixTimeMilliseconds(createdAt.ToUnixTimeMilliseconds());
                    var roll = random.Next(100);
                    var status = roll < 90 ? PaymentStatus.Succeeded : roll < 95 ? PaymentStatus.Pending : roll < 98 ? PaymentStatus.Failed : PaymentStatus.Refunded;
                    var payment = new PaymentTransaction
                    {
                        TransactionId = Guid.CreateVersion7(createdAt), OrganizationId = organization, CampaignId = campaign, DonorId = donor,
                        AmountMinor = 500 + random.Next(50_000), Currency = "USD", Status = status,
                        PaymentMethodType = status == PaymentStatus.Pending ? PaymentMethodType.BankTransfer : PaymentMethodType.Card,
                        PaymentMethodToken = status == PaymentStatus.Pending ? "tok_bankTransfer" : "tok_visa",
                        IdempotencyKey = Guid.NewGuid().ToString(), FailureCode = status == PaymentStatus.Failed ? "card_declined" : null,
                        CreatedAt = createdAt, UpdatedAt = createdAt,
                    };
                    if (status == PaymentStatus.Refunded) payment = payment with { RefundedAmountMinor = payment.AmountMinor };
                    if (tenant is not null && sampled[tenant].Count < 5_000) sampled[tenant].Add(payment.TransactionId);
                    if (tenant is not null && status == PaymentStatus.Succeeded && (rank != 0 || recentRate == 0 || i >= count)) refundable[tenant].Add((payment.TransactionId, createdAt));
                    yield return payment;
                }
            }
        }

        var expected = Enumerable.Range(0, organizations).Sum(rank => Math.Max(1, (long)Math.Round(payments * weights[rank] / total))) + recentRate * 3_600L;
        AnsiConsole.MarkupLineInterpolated($"[bold]Loading {expected:N0} payments of {organizations:N0} organizations[/] (largest {Math.Round(payments * weights[0] / total):N0}, small {Math.Max(1, Math.Round(payments * weights[smallRank] / total)):N0})");
        using var dynamo = dynalite.CreateClient();
        var clock = Stopwatch.StartNew();
        var lastReport = 0L;
        var loaded = await BulkLoader.LoadAsync(dynamo, options.TransactionsTableName, Generate(), indexShards: 8, written =>
        {
            if (written - Interlocked.Read(ref lastReport) < 100_000) return;
            Interlocked.Exchange(ref lastReport, written);
            Console.WriteLine($"  {written:N0} loaded, {written / clock.Elapsed.TotalSeconds:N0}/s");
        }, cancellationToken);
        var loadSeconds = clock.Elapsed.TotalSeconds;
        AnsiConsole.MarkupLineInterpolated($"Loaded {loaded:N0} payments in {loadSeconds:N0} s ({loaded / loadSeconds:N0}/s)");

        // Each sample asks the largest and the small organization in turn, so warm-up, caches and background work fall on both alike.
        var tenants = new[] { large, small };
        var histograms = tenants.ToDictionary(t => t, _ => Operations.Select(_ => new LongHistogram(TimeStamp.Minutes(5), 3)).ToArray());
        var notes = tenants.ToDictionary(t => t, _ => new string[Operations.Length]);
        static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        var firstRead = tenants.ToDictionary(t => t, _ => new string[Operations.Length]);
        var readsBegan = DateTimeOffset.UtcNow;
        for (var op = 0; op < Operations.Length; op++)
        {
            for (var i = -Math.Min(10, samples); i < samples; i++) // the first requests warm the JIT, connections and caches
            {
                foreach (var tenant in tenants)
                {
                    var ids = sampled[tenant];
                    var path = op switch
                    {
                        0 => $"/payments/{ids[(int)((uint)(i * 7919) % (uint)ids.Count)]}",
                        1 => "/payments?limit=50",
                        2 => $"/campaigns/{tenant.Campaign}",
                        _ => $"/analytics/hourly?from={Uri.EscapeDataString(now.AddDays(-7).ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(now.ToString("O", CultureInfo.InvariantCulture))}",
                    };
                    var (elapsed, body) = await TimedGetAsync(tenant, path, Operations[op], cancellationToken);
                    if (i >= 0) histograms[tenant][op].RecordValue(elapsed);
                    // The very first campaign and analytics requests read the closed hours' payments once and keep their totals.
                    if (i == -Math.Min(10, samples) && op >= 2) firstRead[tenant][op] = $"; first request {Ms(elapsed):N0} ms";
                    if (i == 0 && op == 2) notes[tenant][op] = $"{JsonDocument.Parse(body).RootElement.GetProperty("donationCount").GetInt64():N0} donations";
                    if (i == 0 && op == 3) notes[tenant][op] = $"{JsonDocument.Parse(body).RootElement.GetProperty("hours").EnumerateArray().Sum(h => h.GetProperty("count").GetInt64()):N0} payments in 7 days";
                }
            }
        }
        // A refund into the newest closed hour of each organization's payments (the telethon's hour for the largest), once that
        // hour is kept: the views read after it, within Settle of its mark, are what a refund into a closed hour costs.
        var afterRefund = tenants.ToDictionary(t => t, _ => new LongHistogram(TimeStamp.Minutes(5), 3));
        var refundNotes = tenants.ToDictionary(t => t, _ => "");
        foreach (var tenant in tenants)
        {
            var closedBefore = PaymentItemKeys.FloorHour(DateTimeOffset.UtcNow.AddMinutes(-3)); // hours before it have closed
            var (id, createdAt) = refundable[tenant].Where(p => p.CreatedAt < closedBefore).MaxBy(p => p.CreatedAt);
            using var refund = new HttpRequestMessage(HttpMethod.Post, $"/api/organizations/{tenant.Id}/payments/{id}/refunds") { Content = JsonContent.Create(new { amountMinor = 100 }) };
            refund.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            using var refunded = await tenant.Client.SendAsync(refund, cancellationToken);
            if (!refunded.IsSuccessStatusCode) throw new InvalidOperationException($"refund: {(int)refunded.StatusCode} {await refunded.Content.ReadAsStringAsync(cancellationToken)}");
            refundNotes[tenant] = $"a refund into {createdAt:HH}:00–{createdAt.AddHours(1):HH}:00 UTC (closed) just before";
            for (var i = 0; i < samples; i++)
                afterRefund[tenant].RecordValue((await TimedGetAsync(tenant, $"/campaigns/{tenant.Campaign}", "campaign after a refund", cancellationToken)).Elapsed);
        }

        var rows = tenants.SelectMany(t => Operations.Select((operation, op) => (Operation: operation, Organization: t.Name,
            P50: Ms(histograms[t][op].GetValueAtPercentile(50)), P99: Ms(histograms[t][op].GetValueAtPercentile(99)), Note: (notes[t][op] ?? "") + firstRead[t][op]))
            .Append((Operation: "campaign, after a refund into a closed hour", Organization: t.Name, P50: Ms(afterRefund[t].GetValueAtPercentile(50)),
                P99: Ms(afterRefund[t].GetValueAtPercentile(99)), Note: refundNotes[t]))).ToList();

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"Scale run {now:yyyy-MM-dd HH:mm} UTC: {loaded:N0} payments of {organizations:N0} organizations on dynalite 4.0.0 (on disk), API highScale, {samples} sequential requests per row; {Environment.ProcessorCount} cores.");
        report.AppendLine(CultureInfo.InvariantCulture, $"Loaded in {loadSeconds:N0} s ({loaded / loadSeconds:N0} payments/s, BatchWriteItem).");
        if (recentRate > 0)
            report.AppendLine(CultureInfo.InvariantCulture, $"The largest organization also took {recentRate} payments/s over the hour before {now:HH:mm:ss} UTC ({recentRate * 3_600:N0}); reads began at {readsBegan:HH:mm:ss} UTC.");
        report.AppendLine();
        report.AppendLine("| operation | organization | p50 ms | p99 ms | large / small (p50) | |");
        report.AppendLine("|---|---|---:|---:|---:|---|");
        foreach (var row in rows)
        {
            var smallRow = rows.First(r => r.Operation == row.Operation && r.Organization == small.Name);
            var ratio = row.Organization == large.Name ? (row.P50 / smallRow.P50).ToString("F1", CultureInfo.InvariantCulture) + "x" : "";
            report.AppendLine(CultureInfo.InvariantCulture, $"| {row.Operation} | {row.Organization} | {row.P50:F1} | {row.P99:F1} | {ratio} | {row.Note} |");
        }
        Directory.CreateDirectory(output);
        var file = Path.Combine(output, $"scale-{now:yyyyMMdd-HHmmss}.md");
        await File.WriteAllTextAsync(file, report.ToString(), cancellationToken);
        Console.WriteLine(report);
        Console.WriteLine($"Report: {Path.GetFullPath(file)}");
        return 0;
    }

    /// <summary>One GET of the tenant's <paramref name="path"/>: its time (stopwatch ticks, body read) and body; a failure ends the run.</summary>
    private static async Task<(long Elapsed, string Body)> TimedGetAsync(Tenant tenant, string path, string operation, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await tenant.Client.GetAsync($"/api/organizations/{tenant.Id}" + path, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var elapsed = Stopwatch.GetTimestamp() - started;
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{operation}: {(int)response.StatusCode} {body}");
        return (elapsed, body);
    }

    private sealed class Tenant
    {
        public required string Name { get; init; }
        public required Guid Id { get; init; }
        public required Guid Campaign { get; init; }
        public required Guid Donor { get; init; }
        public required HttpClient Client { get; init; }

        public static async Task<Tenant> CreateAsync(string url, string name)
        {
            using var admin = new HttpClient { BaseAddress = new Uri(url) };
            admin.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
            var org = await Read(await admin.PostAsJsonAsync("/api/organizations", new { name }));
            var id = org.GetProperty("id").GetGuid();
            var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(5) };
            client.DefaultRequestHeaders.Add("X-Api-Key", org.GetProperty("apiKey").GetString());
            var campaign = await Read(await client.PostAsJsonAsync($"/api/organizations/{id}/campaigns", new { name = "Scale", goalAmountMinor = 100_000_000_000, currency = "USD" }));
            var donor = await Read(await client.PostAsJsonAsync($"/api/organizations/{id}/donors", new { email = $"scale-{id:N}@example.org", name = "Scale" }));
            return new Tenant { Name = name, Id = id, Campaign = campaign.GetProperty("id").GetGuid(), Donor = donor.GetProperty("id").GetGuid(), Client = client };
        }

        private static async Task<JsonElement> Read(HttpResponseMessage response)
        {
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)response.StatusCode}: {body}");
            return JsonDocument.Parse(body).RootElement.Clone();
        }
    }
}
