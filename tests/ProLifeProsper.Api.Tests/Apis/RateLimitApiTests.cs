using System.Net;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>Each organization has its own request budget: over it, 429 ProblemDetails with Retry-After, and nothing happens.</summary>
public sealed class RateLimitApiTests(RateLimitApiTests.Factory factory) : IClassFixture<RateLimitApiTests.Factory>
{
    private const int PerOrganization = 12;

    public sealed class Factory : ApiFactory
    {
        // No refill during a test: the budget is exactly what the test spends.
        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [
            new("RateLimits:PerOrganization:TokenLimit", PerOrganization.ToString()),
            new("RateLimits:PerOrganization:TokensPerPeriod", PerOrganization.ToString()),
            new("RateLimits:PerOrganization:ReplenishmentPeriod", "01:00:00"),
        ];
    }

    [Fact]
    public async Task Over_its_limit_an_organization_gets_429_with_Retry_After_and_nothing_is_stored()
    {
        var tenant = await TestTenant.CreateAsync(factory); // two requests with the organization's key
        for (var i = 2; i < PerOrganization; i++)
            Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync(tenant.Path())).StatusCode);

        var key = Guid.NewGuid().ToString();
        var refused = await tenant.PostPaymentAsync(tenant.PaymentBody(), key);
        await ProblemAssert.ReadAsync(refused, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.InRange(ProblemAssert.RetryAfter(refused), TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await tenant.Client.GetAsync(tenant.Path("/payments"))).StatusCode);

        // Nothing reached the processor or the store (read with the admin key, which has its own budget).
        Assert.DoesNotContain(factory.Gateway.Ledger.Charges, c => c.OrganizationId == tenant.OrganizationId);
        using var admin = factory.CreateAdminClient();
        var stored = await TestTenant.ReadAsync<ListResponse<PaymentResponse>>(await admin.GetAsync(tenant.Path("/payments")), HttpStatusCode.OK);
        Assert.Empty(stored.Items);

        // Another organization has a budget of its own.
        var other = await TestTenant.CreateAsync(factory);
        Assert.Equal("succeeded", (await other.PayAsync()).Status);
    }

    [Fact]
    public async Task The_admin_key_is_not_held_to_an_organizations_budget()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var admin = factory.CreateAdminClient();
        for (var i = 0; i < PerOrganization * 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(tenant.Path())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync(tenant.Path())).StatusCode);
    }
}
