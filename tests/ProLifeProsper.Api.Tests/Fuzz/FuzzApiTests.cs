using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ProLifeProsper.Api.Tests.Fuzz;

/// <summary>
/// Fuzzes every route of the OpenAPI document with requests that are each wrong in one way: every one must answer
/// 4xx as ProblemDetails, never 5xx nor success, and nothing may be stored. The seed and count are printed; CI runs
/// a fixed seed. A longer run: <c>FUZZ_SEED=7 FUZZ_REQUESTS=20000 dotnet test tests/ProLifeProsper.Api.Tests --filter FullyQualifiedName~Fuzz</c>.
/// </summary>
public abstract class FuzzApiTests<TFactory>(TFactory factory, FuzzRunLog log, ITestOutputHelper output) : IClassFixture<TFactory>
    where TFactory : ApiFactory
{
    private const int DefaultSeed = 20261128;
    private const int DefaultRequests = 600;

    [Fact]
    public async Task Every_bad_request_to_every_route_answers_4xx_problem_details_and_stores_nothing()
    {
        var seed = Setting("FUZZ_SEED", DefaultSeed);
        var count = Setting("FUZZ_REQUESTS", DefaultRequests);
        var tenant = await TestTenant.CreateAsync(factory);
        var other = await TestTenant.CreateAsync(factory);
        var payment = await tenant.PayAsync(5_000);

        using var admin = factory.CreateAdminClient();
        var document = JsonNode.Parse(await admin.GetStringAsync("/openapi/v1.json"))!;
        var operations = FuzzOperation.ReadAll(document);
        Assert.True(operations.Count >= 15, $"the OpenAPI document lists only {operations.Count} operations");
        var before = await SnapshotAsync(tenant, payment.TransactionId);

        var generator = new BadRequestGenerator(operations, new FuzzTenant(tenant.OrganizationId, tenant.CampaignId, tenant.DonorId, payment.TransactionId, other.OrganizationId),
            new Random(seed));
        var failures = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        var covered = new HashSet<string>();
        using var anonymous = factory.CreateClient();
        anonymous.Timeout = TimeSpan.FromSeconds(30);
        for (var i = 0; i < count; i++)
        {
            var request = generator.Next();
            covered.Add(request.OperationId);
            var client = request.Caller switch
            {
                FuzzCaller.Tenant => tenant.Client,
                FuzzCaller.OtherTenant => other.Client,
                FuzzCaller.Admin => admin,
                _ => anonymous,
            };
            using var message = new HttpRequestMessage(request.Method, request.Path);
            if (request.Caller == FuzzCaller.UnknownKey) message.Headers.TryAddWithoutValidation("X-Api-Key", "plp_" + Guid.NewGuid().ToString("N"));
            foreach (var (name, value) in request.Headers) message.Headers.TryAddWithoutValidation(name, value);
            if (request.Body is not null)
            {
                message.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(request.Body));
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType!); // sent as generated, parameters and all
            }

            using var response = await client.SendAsync(message);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var text = await response.Content.ReadAsStringAsync();
            var problem = response.Content.Headers.ContentType?.MediaType == "application/problem+json";
            // Kestrel refuses some requests itself, before the application runs and could write a body: a header block
            // too large (431), a request line too long (414) or malformed, e.g. a NUL in the path (400).
            var refusedByServer = text.Length == 0 && status is 400 or 414 or 431;
            if (status is < 400 or >= 500 || (!problem && !refusedByServer) || (request.Expected is { } expected && !expected.Contains(status)))
                failures.Add($"#{i} answered {status} ({response.Content.Headers.ContentType?.MediaType ?? "no body"}): {request}\n  → {(text.Length > 400 ? text[..400] : text)}");
        }

        var summary = $"fuzz ({typeof(TFactory).Name}) seed {seed}: {count} requests over {covered.Count} of {operations.Count} operations; " +
            $"statuses {string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))}; {failures.Count} not a 4xx ProblemDetails";
        output.WriteLine(summary);
        log.Print(summary);
        Assert.True(failures.Count == 0, $"seed {seed}: {failures.Count} of {count} bad requests were not answered with a 4xx ProblemDetails:\n" + string.Join("\n", failures.Take(15)));
        Assert.Equal(operations.Count, covered.Count);
        Assert.Equal(before, await SnapshotAsync(tenant, payment.TransactionId));
    }

    /// <summary>Everything a stored request could change: row counts in PostgreSQL, the tenant's payments and the refunded amount.</summary>
    private async Task<string> SnapshotAsync(TestTenant tenant, Guid paymentId)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM organizations), (SELECT count(*) FROM campaigns), (SELECT count(*) FROM donors), " +
            "(SELECT count(*) FROM payment_transactions), (SELECT count(*) FROM idempotency_records), " +
            "(SELECT count(*) FROM organization_api_keys), (SELECT count(*) FROM organization_api_keys WHERE revoked_at IS NOT NULL OR expires_at IS NOT NULL)", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var rows = string.Join(",", Enumerable.Range(0, 7).Select(i => reader.GetInt64(i)));
        if (factory is HighScaleApiFactory highScale) rows += "; dynamodb " + await DynamoDbPaymentCount.AllItemsAsync(highScale.TablePrefix);
        var payments = await tenant.ListPaymentsAsync("?limit=500");
        var payment = await TestTenant.ReadAsync<PaymentResponse>(await tenant.Client.GetAsync(tenant.Path($"/payments/{paymentId}")), HttpStatusCode.OK);
        return $"rows {rows}; payments {payments.Items.Count}; refunded {payment.RefundedAmountMinor}";
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : fallback;
}

/// <summary>Prints the run's seed and count in the <c>dotnet test</c> output itself (xunit diagnostic messages), pass or fail.</summary>
public sealed class FuzzRunLog(IMessageSink sink)
{
    public void Print(string line) => sink.OnMessage(new DiagnosticMessage(line));
}

public sealed class FuzzApiOnPostgreSqlTests(ApiFactory factory, FuzzRunLog log, ITestOutputHelper output) : FuzzApiTests<ApiFactory>(factory, log, output), IClassFixture<FuzzRunLog>;

public sealed class FuzzApiOnDynamoDbTests(HighScaleApiFactory factory, FuzzRunLog log, ITestOutputHelper output) : FuzzApiTests<HighScaleApiFactory>(factory, log, output), IClassFixture<FuzzRunLog>;
