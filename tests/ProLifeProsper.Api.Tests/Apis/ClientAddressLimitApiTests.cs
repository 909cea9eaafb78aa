using System.Net;
using Microsoft.Extensions.DependencyInjection;
using ProLifeProsper.Api.Auth;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>
/// Requests without a valid key are budgeted per client address: a flood of made-up keys gets 429 once the budget is spent,
/// and from then on costs no database look-up, while clients with valid keys go on.
/// </summary>
public sealed class ClientAddressLimitApiTests(ClientAddressLimitApiTests.Factory factory) : IClassFixture<ClientAddressLimitApiTests.Factory>
{
    private const int PerAddress = 6;

    public sealed class Factory : ApiFactory
    {
        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [
            new("RateLimits:PerClientAddress:TokenLimit", PerAddress.ToString()),
            new("RateLimits:PerClientAddress:TokensPerPeriod", PerAddress.ToString()),
            new("RateLimits:PerClientAddress:ReplenishmentPeriod", "01:00:00"),
            // The valid key's answer expires during the flood: with this address's budget spent, it is looked up all the same.
            new("Auth:KeyCache:HitTtl", "00:00:00.200"),
        ];
    }

    // One test only: every test of a class shares the address (loopback) and so its budget.
    [Fact]
    public async Task A_flood_of_made_up_keys_is_cut_off_before_the_database_while_valid_keys_go_on()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync(tenant.Path())).StatusCode); // a client that was working before the flood
        var cache = factory.Services.GetRequiredService<ApiKeyCache>();
        var lookupsBefore = cache.Lookups;

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < PerAddress + 14; i++)
        {
            using var guesser = factory.CreateClient(OrganizationApiKey.Generate());
            last = await guesser.GetAsync(tenant.Path());
            statuses.Add(last.StatusCode);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, PerAddress).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 14)), statuses);
        await ProblemAssert.ReadAsync(last!, HttpStatusCode.TooManyRequests, "rate-limited");
        ProblemAssert.RetryAfter(last!);
        Assert.Equal(lookupsBefore + PerAddress, cache.Lookups); // the refused ones cost no look-up

        // Requests without any key are counted against the same budget.
        using var anonymous = factory.CreateClient();
        Assert.Equal(HttpStatusCode.TooManyRequests, (await anonymous.GetAsync(tenant.Path())).StatusCode);

        // The same address with valid keys spends other budgets, and a key found valid before is looked up again when its
        // cached answer expires, even with the address's budget for unknown keys spent.
        await Task.Delay(TimeSpan.FromMilliseconds(400));
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync(tenant.Path())).StatusCode);
        Assert.Equal(lookupsBefore + PerAddress + 1, cache.Lookups);
        using var admin = factory.CreateAdminClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(tenant.Path())).StatusCode);
        // Health probes are never limited.
        Assert.NotEqual(HttpStatusCode.TooManyRequests, (await anonymous.GetAsync("/alive")).StatusCode);
    }
}
