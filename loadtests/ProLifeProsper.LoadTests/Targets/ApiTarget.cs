using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace ProLifeProsper.LoadTests.Targets;

/// <summary>
/// The scenarios against a running API: organizations of Zipf-skewed size (a few big, many small), each with a
/// campaign and a few donors; create, get, list, a 70/20/10 mix, and campaign progress (the public progress page: most
/// views go to the biggest organizations, as their payments do). Several donors per organization, as in life: the
/// card-testing guard counts one donor's payments still at the processor as possible declines (five at most), so one
/// donor paying from 16 clients at once would be refused with 429s that no real organization sees.
/// </summary>
public sealed class ApiTarget : IDisposable
{
    public static readonly string[] Scenarios = ["create-payment", "get-payment", "list-payments", "mixed", "campaign-progress"];

    private readonly HttpClient _http;
    private readonly List<Tenant> _tenants = [];
    private readonly double[] _cumulative;
    private readonly List<(Tenant Tenant, string Id)> _payments = [];
    private readonly ThreadLocal<Random> _random = new(() => new Random(Environment.CurrentManagedThreadId));

    private const int DonorsPerOrganization = 8;

    private sealed record Tenant(string Id, string Key, string Campaign, IReadOnlyList<string> Donors)
    {
        // The create bodies are the same for every request of a tenant's donor: serialise them once, not per request.
        public IReadOnlyList<byte[]> PaymentBodies { get; } = Donors.Select(donor => JsonSerializer.SerializeToUtf8Bytes(new
        {
            campaignId = Campaign, donorId = donor, amountMinor = 2_500, currency = "USD", paymentMethod = new { type = "card", token = "tok_visa" },
        })).ToList();
    }

    private ApiTarget(string url, int organizations, double zipf)
    {
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 4_096, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = new Uri(url),
            Timeout = TimeSpan.FromSeconds(30),
        };
        var weights = Enumerable.Range(1, organizations).Select(i => 1 / Math.Pow(i, zipf)).ToArray();
        var sum = weights.Sum();
        _cumulative = new double[organizations];
        for (double acc = 0, i = 0; i < organizations; i++) _cumulative[(int)i] = acc += weights[(int)i] / sum;
    }

    public static async Task<ApiTarget> PrepareAsync(string url, string adminKey, int organizations, double zipf, int seedPayments)
    {
        var target = new ApiTarget(url, organizations, zipf);
        using var admin = new HttpClient { BaseAddress = new Uri(url) };
        admin.DefaultRequestHeaders.Add("X-Api-Key", adminKey);
        for (var i = 0; i < organizations; i++)
        {
            var org = await Json(await admin.PostAsJsonAsync("/api/organizations", new { name = $"Load org {i}" }));
            var key = org.GetProperty("apiKey").GetString()!;
            var id = org.GetProperty("id").GetString()!;
            using var client = new HttpClient { BaseAddress = new Uri(url) };
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
            var campaign = await Json(await client.PostAsJsonAsync($"/api/organizations/{id}/campaigns", new { name = "Load", goalAmountMinor = 100_000_000, currency = "USD" }));
            var donors = new List<string>();
            for (var d = 0; d < DonorsPerOrganization; d++)
                donors.Add((await Json(await client.PostAsJsonAsync($"/api/organizations/{id}/donors", new { email = $"load{i}-{d}@example.org", name = "Load" })))
                    .GetProperty("id").GetString()!);
            target._tenants.Add(new Tenant(id, key, campaign.GetProperty("id").GetString()!, donors));
        }
        for (var i = 0; i < seedPayments; i++)
        {
            var tenant = target.Pick();
            var (ok, _, id, _) = await target.CreateAsync(tenant, CancellationToken.None);
            if (ok) target._payments.Add((tenant, id!));
        }
        return target;
    }

    public Func<int, CancellationToken, Task<Engine.Outcome>> Operation(string scenario) => scenario switch
    {
        "create-payment" => async (_, ct) => Outcome(await CreateAsync(Pick(), ct, readId: false)),
        "get-payment" => (_, ct) => GetAsync(ct),
        "list-payments" => (_, ct) => ListAsync(ct),
        "campaign-progress" => (_, ct) => CampaignAsync(ct),
        "mixed" => async (_, ct) =>
        {
            var roll = _random.Value!.Next(100);
            return roll < 70 ? Outcome(await CreateAsync(Pick(), ct, readId: false)) : roll < 90 ? await GetAsync(ct) : await ListAsync(ct);
        },
        _ => throw new ArgumentException($"Unknown scenario '{scenario}'."),
    };

    private static Engine.Outcome Outcome((bool Ok, long Bytes, string? Id, int Status) result) =>
        new(result.Ok, result.Bytes, result.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private async Task<(bool Ok, long Bytes, string? Id, int Status)> CreateAsync(Tenant tenant, CancellationToken ct, bool readId = true)
    {
        var content = new ByteArrayContent(tenant.PaymentBodies[_random.Value!.Next(tenant.PaymentBodies.Count)]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/organizations/{tenant.Id}/payments") { Content = content };
        request.Headers.Add("X-Api-Key", tenant.Key);
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
        using var response = await _http.SendAsync(request, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (response.StatusCode != HttpStatusCode.Created) return (false, body.Length, null, (int)response.StatusCode);
        return (true, body.Length, readId ? JsonDocument.Parse(body).RootElement.GetProperty("transactionId").GetString() : null, (int)response.StatusCode);
    }

    private async Task<Engine.Outcome> GetAsync(CancellationToken ct)
    {
        var (tenant, id) = _payments[_random.Value!.Next(_payments.Count)];
        return await SendAsync(tenant, $"/api/organizations/{tenant.Id}/payments/{id}", ct);
    }

    private Task<Engine.Outcome> ListAsync(CancellationToken ct)
    {
        var tenant = Pick();
        return SendAsync(tenant, $"/api/organizations/{tenant.Id}/payments?limit=50", ct);
    }

    private Task<Engine.Outcome> CampaignAsync(CancellationToken ct)
    {
        var tenant = Pick();
        return SendAsync(tenant, $"/api/organizations/{tenant.Id}/campaigns/{tenant.Campaign}", ct);
    }

    private async Task<Engine.Outcome> SendAsync(Tenant tenant, string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Api-Key", tenant.Key);
        using var response = await _http.SendAsync(request, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        return new Engine.Outcome(response.StatusCode == HttpStatusCode.OK, body.Length, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private Tenant Pick()
    {
        var index = Array.BinarySearch(_cumulative, _random.Value!.NextDouble());
        return _tenants[Math.Min(_tenants.Count - 1, index < 0 ? ~index : index)];
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public void Dispose()
    {
        _http.Dispose();
        _random.Dispose();
    }
}
