using System.Net;
using System.Net.Http.Json;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Apis;

public abstract class CampaignsAndDonorsApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory> where TFactory : ApiFactory
{
    [Fact]
    public async Task A_campaign_reports_progress_from_succeeded_payments_net_of_refunds()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var first = await tenant.PayAsync(10_000);
        await tenant.PayAsync(5_000);
        await tenant.PayAsync(7_000, token: "tok_chargeDeclined");
        var refund = await tenant.PostRefundAsync(first.TransactionId, 4_000, Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Created, refund.StatusCode);

        var campaign = await TestTenant.ReadAsync<CampaignResponse>(await tenant.Client.GetAsync(tenant.Path($"/campaigns/{tenant.CampaignId}")), HttpStatusCode.OK);
        Assert.Equal(11_000, campaign.RaisedAmountMinor);
        Assert.Equal(2, campaign.DonationCount);
        Assert.Equal(1_000_000, campaign.GoalAmountMinor);
        Assert.Equal("USD", campaign.Currency);

        var list = await TestTenant.ReadAsync<ListResponse<CampaignResponse>>(await tenant.Client.GetAsync(tenant.Path("/campaigns")), HttpStatusCode.OK);
        Assert.Equal(11_000, Assert.Single(list.Items).RaisedAmountMinor);
    }

    [Fact]
    public async Task Concurrent_views_of_two_organizations_campaigns_each_count_their_own_payments_and_the_latest()
    {
        var one = await TestTenant.CreateAsync(factory);
        var other = await TestTenant.CreateAsync(factory);
        await one.PayAsync(10_000);
        await other.PayAsync(3_000);

        async Task<long[]> ViewAsync(TestTenant tenant, int views) => await Task.WhenAll(Enumerable.Range(0, views).Select(async _ =>
            (await TestTenant.ReadAsync<CampaignResponse>(await tenant.Client.GetAsync(tenant.Path($"/campaigns/{tenant.CampaignId}")), HttpStatusCode.OK)).RaisedAmountMinor));

        var first = await Task.WhenAll(ViewAsync(one, 10), ViewAsync(other, 10));
        Assert.All(first[0], raised => Assert.Equal(10_000, raised));
        Assert.All(first[1], raised => Assert.Equal(3_000, raised));

        await one.PayAsync(1_000); // answered before the next views are asked for: every one of them counts it
        var next = await Task.WhenAll(ViewAsync(one, 10), ViewAsync(other, 10));
        Assert.All(next[0], raised => Assert.Equal(11_000, raised));
        Assert.All(next[1], raised => Assert.Equal(3_000, raised));
    }

    [Fact]
    public async Task Campaigns_and_donors_page_newest_first_without_gaps_or_repeats()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await tenant.Client.PostAsJsonAsync(tenant.Path("/campaigns"), new { name = $"C{i}", goalAmountMinor = 100, currency = "EUR" })).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await tenant.Client.PostAsJsonAsync(tenant.Path("/donors"), new { email = $"d{i}@example.org", name = $"D{i}" })).StatusCode);
        }

        var campaigns = await PageAllAsync<CampaignResponse>(tenant, "/campaigns", c => c.Id);
        Assert.Equal(7, campaigns.Count);
        var donors = await PageAllAsync<DonorResponse>(tenant, "/donors", d => d.Id);
        Assert.Equal(7, donors.Count);
        Assert.Equal(tenant.DonorId, donors[^1]); // the first donor made is the last listed
    }

    [Fact]
    public async Task A_duplicate_donor_email_in_the_same_organization_is_409_but_fine_elsewhere()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var other = await TestTenant.CreateAsync(factory);
        Assert.Equal(HttpStatusCode.Created, (await tenant.Client.PostAsJsonAsync(tenant.Path("/donors"), new { email = "Ann@Example.org", name = "Ann" })).StatusCode);

        var duplicate = await tenant.Client.PostAsJsonAsync(tenant.Path("/donors"), new { email = "ann@example.ORG", name = "Ann again" });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Contains("donor-email-taken", await duplicate.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.Created, (await other.Client.PostAsJsonAsync(other.Path("/donors"), new { email = "ann@example.org", name = "Ann" })).StatusCode);
    }

    [Fact]
    public async Task Get_returns_what_was_created_and_404_for_unknown_ids()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var donor = await TestTenant.ReadAsync<DonorResponse>(await tenant.Client.GetAsync(tenant.Path($"/donors/{tenant.DonorId}")), HttpStatusCode.OK);
        Assert.Equal("Dana Donor", donor.Name);
        Assert.Equal(HttpStatusCode.NotFound, (await tenant.Client.GetAsync(tenant.Path($"/donors/{Guid.CreateVersion7()}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await tenant.Client.GetAsync(tenant.Path($"/campaigns/{Guid.CreateVersion7()}"))).StatusCode);
    }

    private static async Task<List<Guid>> PageAllAsync<T>(TestTenant tenant, string path, Func<T, Guid> id)
    {
        var seen = new List<Guid>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await TestTenant.ReadAsync<ListResponse<T>>(
                await tenant.Client.GetAsync(tenant.Path(path) + "?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))), HttpStatusCode.OK);
            Assert.True(page.Items.Count <= 2);
            seen.AddRange(page.Items.Select(id));
            cursor = page.NextCursor;
            Assert.True(++pages < 10, "paging did not end");
        }
        while (cursor is not null);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        return seen;
    }
}

public sealed class CampaignsAndDonorsApiOnPostgreSqlTests(ApiFactory factory) : CampaignsAndDonorsApiTests<ApiFactory>(factory);

public sealed class CampaignsAndDonorsApiOnDynamoDbTests(HighScaleApiFactory factory) : CampaignsAndDonorsApiTests<HighScaleApiFactory>(factory);
