using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>Campaign and donor creates with an optional Idempotency-Key (Stripe's semantics); both live in PostgreSQL.</summary>
public sealed class IdempotentCreatesApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private static readonly object Campaign = new { name = "Winter appeal", goalAmountMinor = 500_000, currency = "EUR" };

    [Fact]
    public async Task A_campaign_create_whose_answer_was_lost_is_answered_with_the_same_campaign_on_retry()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        // The API commits the campaign, and the connection drops before the client reads the answer.
        using var losing = factory.CreateDefaultClient(new LoseAnswer());
        losing.DefaultRequestHeaders.Add("X-Api-Key", tenant.ApiKey);
        await Assert.ThrowsAsync<HttpRequestException>(() => losing.SendAsync(Create(tenant, "/campaigns", Campaign, "campaign-1")));

        var retry = await tenant.Client.SendAsync(Create(tenant, "/campaigns", Campaign, "campaign-1"));
        var replayed = await TestTenant.ReadAsync<CampaignResponse>(retry, HttpStatusCode.Created);
        Assert.Equal("true", Assert.Single(retry.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal($"/api/organizations/{tenant.OrganizationId}/campaigns/{replayed.Id}", retry.Headers.Location?.OriginalString);
        Assert.Equal(("Winter appeal", 500_000L, "EUR", 0L), (replayed.Name, replayed.GoalAmountMinor, replayed.Currency, replayed.RaisedAmountMinor));
        var campaigns = await ListAsync<CampaignResponse>(tenant, "/campaigns");
        Assert.Equal([tenant.CampaignId, replayed.Id], campaigns.Select(c => c.Id).Order().ToArray());
    }

    [Fact]
    public async Task Racing_creates_with_one_key_make_one_campaign_and_one_donor()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var donor = new { email = "racer@example.org", name = "Rae Racer" };
        var campaigns = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => tenant.Client.SendAsync(Create(tenant, "/campaigns", Campaign, "race-c"))));
        // One email: without the key, all but one would be 409 donor-email-taken; with it, all are the first donor.
        var donors = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => tenant.Client.SendAsync(Create(tenant, "/donors", donor, "race-d"))));

        var campaignIds = await Task.WhenAll(campaigns.Select(async r => (await TestTenant.ReadAsync<CampaignResponse>(r, HttpStatusCode.Created)).Id));
        var donorIds = await Task.WhenAll(donors.Select(async r => (await TestTenant.ReadAsync<DonorResponse>(r, HttpStatusCode.Created)).Id));
        Assert.Single(campaignIds.Distinct());
        Assert.Single(donorIds.Distinct());
        Assert.Equal(11, campaigns.Count(r => r.Headers.Contains("Idempotent-Replayed")));
        Assert.Equal(11, donors.Count(r => r.Headers.Contains("Idempotent-Replayed")));
        Assert.Equal(2, (await ListAsync<CampaignResponse>(tenant, "/campaigns")).Count); // the tenant's own, and this one
        Assert.Equal(2, (await ListAsync<DonorResponse>(tenant, "/donors")).Count);
    }

    [Fact]
    public async Task A_key_reused_for_another_request_or_endpoint_is_refused_and_creates_nothing()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        Assert.Equal(HttpStatusCode.Created, (await tenant.Client.SendAsync(Create(tenant, "/campaigns", Campaign, "used"))).StatusCode);

        await ProblemAssert.ReadAsync(await tenant.Client.SendAsync(Create(tenant, "/campaigns",
            new { name = "Winter appeal", goalAmountMinor = 500_001, currency = "EUR" }, "used")), HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        await ProblemAssert.ReadAsync(await tenant.Client.SendAsync(Create(tenant, "/donors",
            new { email = "other@example.org", name = "Otto" }, "used")), HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");

        Assert.Equal(2, (await ListAsync<CampaignResponse>(tenant, "/campaigns")).Count);
        Assert.Single(await ListAsync<DonorResponse>(tenant, "/donors"));
    }

    [Fact]
    public async Task A_donor_refused_for_a_taken_email_does_not_use_up_its_key()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        Assert.Equal(HttpStatusCode.Created, (await tenant.Client.SendAsync(Create(tenant, "/donors", new { email = "taken@example.org", name = "A" }, "d-1"))).StatusCode);

        await ProblemAssert.ReadAsync(await tenant.Client.SendAsync(Create(tenant, "/donors", new { email = "taken@example.org", name = "B" }, "d-2")),
            HttpStatusCode.Conflict, "donor-email-taken");
        var later = await TestTenant.ReadAsync<DonorResponse>(
            await tenant.Client.SendAsync(Create(tenant, "/donors", new { email = "free@example.org", name = "B" }, "d-2")), HttpStatusCode.Created);
        Assert.Equal("free@example.org", later.Email);
    }

    [Fact]
    public async Task One_key_in_two_organizations_makes_a_campaign_in_each()
    {
        var one = await TestTenant.CreateAsync(factory);
        var other = await TestTenant.CreateAsync(factory);
        var first = await TestTenant.ReadAsync<CampaignResponse>(await one.Client.SendAsync(Create(one, "/campaigns", Campaign, "shared-key")), HttpStatusCode.Created);
        var second = await other.Client.SendAsync(Create(other, "/campaigns", Campaign, "shared-key"));

        var theirs = await TestTenant.ReadAsync<CampaignResponse>(second, HttpStatusCode.Created);
        Assert.False(second.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual(first.Id, theirs.Id);
        Assert.Equal(other.OrganizationId, theirs.OrganizationId);
    }

    [Fact]
    public async Task A_malformed_key_is_refused_and_creates_nothing()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        await ProblemAssert.ReadAsync(await tenant.Client.SendAsync(Create(tenant, "/campaigns", Campaign, "has space")), HttpStatusCode.BadRequest, "validation-failed");

        // Written on the wire by hand: HttpClient leaves an empty header out, and joins two into one line.
        var empty = await PostRawAsync(tenant, "/campaigns", Campaign, "Idempotency-Key: ");
        Assert.StartsWith("HTTP/1.1 400", empty);
        Assert.Contains("must not be empty", empty);
        var twice = await PostRawAsync(tenant, "/donors", new { email = "twice@example.org", name = "T" }, "Idempotency-Key: a", "Idempotency-Key: b");
        Assert.StartsWith("HTTP/1.1 400", twice);
        Assert.Contains("must be sent once", twice);
        var comma = await PostRawAsync(tenant, "/donors", new { email = "comma@example.org", name = "C" }, "Idempotency-Key: a,b");
        Assert.StartsWith("HTTP/1.1 400", comma);
        Assert.Contains("without commas", comma);

        Assert.Single(await ListAsync<CampaignResponse>(tenant, "/campaigns"));
        Assert.Single(await ListAsync<DonorResponse>(tenant, "/donors"));
    }

    [Fact]
    public async Task A_retry_differing_only_in_form_replays()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var first = await TestTenant.ReadAsync<CampaignResponse>(await tenant.Client.SendAsync(Create(tenant, "/campaigns",
            new { name = "Gala", goalAmountMinor = 9_000, currency = "EUR", startsAt = "2027-01-01T10:00:00+02:00" }, "form")), HttpStatusCode.Created);
        var retry = await tenant.Client.SendAsync(Create(tenant, "/campaigns",
            new { name = " Gala ", goalAmountMinor = 9_000, currency = "eur", startsAt = "2027-01-01T08:00:00Z" }, "form"));
        Assert.Equal(first.Id, (await TestTenant.ReadAsync<CampaignResponse>(retry, HttpStatusCode.Created)).Id);
        Assert.True(retry.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task A_create_retried_after_its_commit_landed_unacknowledged_answers_with_its_own_row()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var now = factory.Clock.GetUtcNow();
        var campaign = Domain.Campaigns.Campaign.Create(tenant.OrganizationId, "Lost ack", 1_000, "USD", null, null, null, now);
        await using (var scope = factory.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<Services.IdempotentCreates>().CreateAsync(
                tenant.OrganizationId, null, "f", campaign, campaign.Id, now, (_, _) => Task.FromResult<Domain.Campaigns.Campaign?>(null), default);

        // The connection's retry of that commit inserts the same row again (as the execution strategy would): without a key.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var campaigns = scope.ServiceProvider.GetRequiredService<Services.CampaignService>();
            var again = await scope.ServiceProvider.GetRequiredService<Services.IdempotentCreates>().CreateAsync(
                tenant.OrganizationId, null, "f", campaign, campaign.Id, now, (id, ct) => campaigns.FindAsync(tenant.OrganizationId, id, ct), default);
            Assert.Equal((campaign.Id, false), (again.Value.Id, again.Replayed));
        }
        Assert.Equal(2, (await ListAsync<CampaignResponse>(tenant, "/campaigns")).Count);
    }

    [Fact]
    public async Task Without_a_key_a_retry_creates_again_as_before()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.Created, (await tenant.Client.PostAsJsonAsync(tenant.Path("/campaigns"), Campaign)).StatusCode);
        Assert.Equal(3, (await ListAsync<CampaignResponse>(tenant, "/campaigns")).Count);
    }

    private static HttpRequestMessage Create(TestTenant tenant, string path, object body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, tenant.Path(path)) { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    private static async Task<List<T>> ListAsync<T>(TestTenant tenant, string path) =>
        (await TestTenant.ReadAsync<ListResponse<T>>(await tenant.Client.GetAsync(tenant.Path(path)), HttpStatusCode.OK)).Items.ToList();

    /// <summary>A POST written on the wire by hand, with <paramref name="headers"/> as given; the whole answer as text.</summary>
    private static async Task<string> PostRawAsync(TestTenant tenant, string path, object body, params string[] headers)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(body);
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(tenant.Client.BaseAddress!.Host, tenant.Client.BaseAddress.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"POST {tenant.Path(path)} HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: {tenant.ApiKey}\r\n{string.Concat(headers.Select(h => h + "\r\n"))}" +
            $"Content-Type: application/json\r\nContent-Length: {json.Length}\r\nConnection: close\r\n\r\n{json}"));
        return await new StreamReader(stream).ReadToEndAsync();
    }

    /// <summary>Delivers the request and drops the answer, as a connection lost after the server committed.</summary>
    private sealed class LoseAnswer : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            (await base.SendAsync(request, cancellationToken)).Dispose();
            throw new HttpRequestException("The connection was lost before the answer arrived.");
        }
    }
}
