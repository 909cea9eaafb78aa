using System.Net;
using System.Net.Http.Json;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>A telethon organization split over several DynamoDB partition keys through the admin API (its own API: the clock moves).</summary>
public sealed class HotOrganizationApiTests(HighScaleApiFactory factory) : IClassFixture<HighScaleApiFactory>
{
    [Fact]
    public async Task Splitting_a_hot_organization_spreads_its_new_payments_and_hides_none_old_or_new()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var before = new List<PaymentResponse>();
        for (var i = 0; i < 5; i++) before.Add(await tenant.PayAsync(1_000));

        using var admin = factory.CreateAdminClient();
        var split = await TestTenant.ReadAsync<PaymentShardsResponse>(
            await admin.PutAsJsonAsync($"/api/admin/organizations/{tenant.OrganizationId}/payment-shards", new { shards = 8 }), HttpStatusCode.OK);
        var change = Assert.Single(split.Changes);
        Assert.Equal(8, change.Shards);
        Assert.Equal(1, split.ShardsNow); // not yet: every replica reads the change before anyone writes with it
        Assert.InRange(change.EffectiveFrom - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(6));
        // Asking again records nothing new (a retried request).
        var again = await TestTenant.ReadAsync<PaymentShardsResponse>(
            await admin.PutAsJsonAsync($"/api/admin/organizations/{tenant.OrganizationId}/payment-shards", new { shards = 8 }), HttpStatusCode.OK);
        Assert.Single(again.Changes);

        factory.Clock.Advance(TimeSpan.FromMinutes(6));
        var after = new List<PaymentResponse>();
        for (var i = 0; i < 40; i++) after.Add(await tenant.PayAsync(1_000));

        var perPartition = await DynamoDbPaymentCount.PerPartitionAsync(factory.TablePrefix, tenant.OrganizationId, 9);
        Assert.Equal(0, perPartition[8]);
        Assert.True(perPartition.Count(c => c > 0) >= 5, $"40 payments over 8 keys landed in: {string.Join(", ", perPartition)}");
        Assert.Equal(45, perPartition.Sum());

        foreach (var payment in before.Concat(after))
            Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync(tenant.Path($"/payments/{payment.TransactionId}"))).StatusCode);
        var listed = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await tenant.ListPaymentsAsync("?limit=10" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            listed.AddRange(page.Items.Select(p => p.TransactionId));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Equal(before.Concat(after).Select(p => p.TransactionId).Reverse(), listed);
        var campaign = await TestTenant.ReadAsync<CampaignResponse>(await tenant.Client.GetAsync(tenant.Path($"/campaigns/{tenant.CampaignId}")), HttpStatusCode.OK);
        Assert.Equal(45_000, campaign.RaisedAmountMinor);
        Assert.Equal(45, campaign.DonationCount);

        var shown = await TestTenant.ReadAsync<PaymentShardsResponse>(
            await admin.GetAsync($"/api/admin/organizations/{tenant.OrganizationId}/payment-shards"), HttpStatusCode.OK);
        Assert.Equal(8, shown.ShardsNow);
    }

    [Fact]
    public async Task A_shard_count_out_of_range_or_an_unknown_organization_is_refused_and_an_organization_key_may_not_ask()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var admin = factory.CreateAdminClient();
        var path = $"/api/admin/organizations/{tenant.OrganizationId}/payment-shards";
        foreach (var body in new object[] { new { shards = 0 }, new { shards = 65 }, new { } })
            await ProblemAssert.ReadAsync(await admin.PutAsJsonAsync(path, body), HttpStatusCode.BadRequest, "validation-failed");
        await ProblemAssert.ReadAsync(await admin.PutAsJsonAsync($"/api/admin/organizations/{Guid.CreateVersion7()}/payment-shards", new { shards = 4 }),
            HttpStatusCode.NotFound, "organization-not-found");
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.Client.PutAsJsonAsync(path, new { shards = 4 })).StatusCode);
        Assert.Empty((await TestTenant.ReadAsync<PaymentShardsResponse>(await admin.GetAsync(path), HttpStatusCode.OK)).Changes);
    }
}
