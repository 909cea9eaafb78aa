using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Tests.Migration;

/// <summary>Drives the migration through the admin API, and seeds history straight into PostgreSQL.</summary>
public sealed class MigrationClient(HttpClient admin, string connectionString) : IDisposable
{
    private readonly HttpClient _admin = admin;

    // A verification under live traffic drains the outbox first: on a loaded 2-core CI machine that outlasts HttpClient's 100 s default.
    public MigrationClient(ApiFactory factory) : this(WithLongTimeout(factory.CreateAdminClient()), factory.ConnectionString)
    {
    }

    private static HttpClient WithLongTimeout(HttpClient client)
    {
        client.Timeout = TimeSpan.FromMinutes(5);
        return client;
    }

    public async Task<JsonNode> PostAsync(string step, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await _admin.PostAsync($"/api/admin/migration/{step}", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{step}: expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>
    /// Starts again after a rollback. A start is refused (409) while a copy the rollback dropped may still land in DynamoDB
    /// (a drain held its row: at most a lease, 3 × the write time-out and 2 s); that refusal is waited out, no other.
    /// </summary>
    public async Task<JsonNode> StartAgainAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var response = await _admin.PostAsync("/api/admin/migration/start", null);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.Conflict && body.Contains("may still be on its way to DynamoDB", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
                continue;
            }
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"start: expected 200, got {(int)response.StatusCode}: {body}");
            return JsonNode.Parse(body)!;
        }
    }

    /// <summary>
    /// Rolls back and, when the API answers 202 (from dynamo-only: DynamoDB is being copied back in the background),
    /// waits until the rollback has finished by itself. Returns the final routing status.
    /// </summary>
    public async Task<JsonNode> RollbackAsync(TimeSpan timeout)
    {
        var response = await _admin.PostAsync("/api/admin/migration/rollback", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted, $"rollback: got {(int)response.StatusCode}: {body}");
        var deadline = DateTime.UtcNow + timeout;
        while (await PhaseAsync() != "postgres")
        {
            Assert.True(DateTime.UtcNow < deadline, $"the rollback did not finish: {await StatusAsync()}");
            await Task.Delay(200);
        }
        return JsonNode.Parse(await _admin.GetStringAsync("/api/admin/routing"))!;
    }

    public async Task<JsonNode> StatusAsync() => JsonNode.Parse(await _admin.GetStringAsync("/api/admin/migration"))!;

    public async Task<string> PhaseAsync() => (string)JsonNode.Parse(await _admin.GetStringAsync("/api/admin/routing"))!["phase"]!;

    public async Task WaitForBackfillAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while ((await StatusAsync())["backfill"]!["completedAt"] is null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"backfill did not finish: {await StatusAsync()}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Verifies, and fails unless clean. Without live traffic one verification must be clean; with writers running a
    /// caller may allow <paramref name="attempts"/> &gt; 1 (a write can land between the verifier's reads of the two stores).
    /// </summary>
    public async Task VerifyCleanAsync(int attempts = 1)
    {
        JsonNode result = null!;
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            result = await PostAsync("verify");
            if ((bool)result["clean"]!) return;
            await Task.Delay(300);
        }
        Assert.Fail($"verification not clean: {result}");
    }

    /// <summary>start → backfill → verify → cut-over: payments on DynamoDB, PostgreSQL the shadow.</summary>
    public async Task CutOverAsync()
    {
        await PostAsync("start");
        await WaitForBackfillAsync(TimeSpan.FromSeconds(60));
        await VerifyCleanAsync();
        Assert.Equal("dynamo-primary", (string)(await PostAsync("cutover"))["phase"]!);
    }

    /// <summary>Writes <paramref name="count"/> payments per tenant (with idempotency records) directly into PostgreSQL; returns them.</summary>
    public async Task<IReadOnlyList<PaymentTransaction>> SeedAsync(IEnumerable<TestTenant> tenants, int count)
    {
        var seeded = new System.Collections.Concurrent.ConcurrentBag<PaymentTransaction>();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var store = new PostgreSqlPaymentTransactionStore(dataSource);
        var start = DateTimeOffset.UtcNow.AddDays(-30);
        foreach (var tenant in tenants)
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            {
                var createdAt = UtcClock.TruncateToMilliseconds(start.AddSeconds(i * 37 + Random.Shared.Next(30)));
                var status = (i % 10) switch { 0 => PaymentStatus.Failed, 1 => PaymentStatus.Pending, _ => PaymentStatus.Succeeded };
                var payment = new PaymentTransaction
                {
                    TransactionId = Guid.CreateVersion7(createdAt), OrganizationId = tenant.OrganizationId, CampaignId = tenant.CampaignId,
                    DonorId = tenant.DonorId, AmountMinor = 100 + i, Currency = i % 7 == 0 ? "EUR" : "USD", Status = status,
                    PaymentMethodType = status == PaymentStatus.Pending ? PaymentMethodType.BankTransfer : PaymentMethodType.Card,
                    PaymentMethodToken = status == PaymentStatus.Pending ? "tok_bankTransfer" : "tok_visa", IdempotencyKey = $"seed-{i}",
                    FailureCode = status == PaymentStatus.Failed ? "card_declined" : null, CreatedAt = createdAt, UpdatedAt = createdAt,
                };
                var record = new IdempotencyRecord(tenant.OrganizationId, $"seed-{i}", "seed", payment.TransactionId, PaymentSnapshotJson.Serialize(payment), createdAt);
                await store.CreateAsync(payment, record, ct);
                seeded.Add(payment);
            });
        }
        return seeded.ToList();
    }

    public void Dispose() => _admin.Dispose();
}
