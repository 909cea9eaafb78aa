using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using ProLifeProsper.Api.Apis.Contracts;

namespace ProLifeProsper.Api.Tests.Infrastructure;

/// <summary>An organization made through the API, with a campaign and a donor, and a client holding its key.</summary>
public sealed record TestTenant(Guid OrganizationId, string ApiKey, Guid CampaignId, Guid DonorId, HttpClient Client)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public string Path(string relative = "") => $"/api/organizations/{OrganizationId}{relative}";

    public static async Task<TestTenant> CreateAsync(ApiFactory factory, string currency = "USD")
    {
        using var admin = factory.CreateAdminClient();
        var created = await ReadAsync<CreatedOrganizationResponse>(
            await admin.PostAsJsonAsync("/api/organizations", new { name = $"Org {Guid.NewGuid():N}" }), HttpStatusCode.Created);
        var client = factory.CreateClient(created.ApiKey);
        var campaign = await ReadAsync<CampaignResponse>(
            await client.PostAsJsonAsync($"/api/organizations/{created.Id}/campaigns", new { name = "Spring appeal", goalAmountMinor = 1_000_000, currency }), HttpStatusCode.Created);
        var donor = await ReadAsync<DonorResponse>(
            await client.PostAsJsonAsync($"/api/organizations/{created.Id}/donors", new { email = $"donor-{Guid.NewGuid():N}@example.org", name = "Dana Donor" }), HttpStatusCode.Created);
        return new TestTenant(created.Id, created.ApiKey, campaign.Id, donor.Id, client);
    }

    /// <summary>A valid payment body for this tenant.</summary>
    public object PaymentBody(long amountMinor = 2_500, string token = "tok_visa", string type = "card", string currency = "USD", Guid? campaignId = null) => new
    {
        campaignId = campaignId ?? CampaignId,
        donorId = DonorId,
        amountMinor,
        currency,
        paymentMethod = new { type, token },
    };

    /// <summary>A USD campaign of this tenant that stops taking donations at <paramref name="endsAt"/>.</summary>
    public async Task<Guid> CreateCampaignEndingAtAsync(DateTimeOffset endsAt) => (await ReadAsync<CampaignResponse>(
        await Client.PostAsJsonAsync(Path("/campaigns"), new { name = "Closing soon", goalAmountMinor = 100_000, currency = "USD", endsAt }), HttpStatusCode.Created)).Id;

    public Task<HttpResponseMessage> PostPaymentAsync(object body, string? idempotencyKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Path("/payments")) { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return Client.SendAsync(request);
    }

    public async Task<PaymentResponse> PayAsync(long amountMinor = 2_500, string token = "tok_visa", string type = "card") =>
        await ReadAsync<PaymentResponse>(await PostPaymentAsync(PaymentBody(amountMinor, token, type), Guid.NewGuid().ToString()), HttpStatusCode.Created);

    public Task<HttpResponseMessage> PostRefundAsync(Guid transactionId, long? amountMinor, string? idempotencyKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Path($"/payments/{transactionId}/refunds"))
        {
            Content = JsonContent.Create(amountMinor is null ? new { } : (object)new { amountMinor }),
        };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return Client.SendAsync(request);
    }

    public async Task<ListResponse<PaymentResponse>> ListPaymentsAsync(string query = "") =>
        await ReadAsync<ListResponse<PaymentResponse>>(await Client.GetAsync(Path("/payments") + query), HttpStatusCode.OK);

    public static async Task<T> ReadAsync<T>(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<T>(body, Json)!;
    }
}
