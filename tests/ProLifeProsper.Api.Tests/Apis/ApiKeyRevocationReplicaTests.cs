using System.Diagnostics;
using System.Net;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>A key revoked through one replica is refused by the others within seconds, although they had it cached as valid.</summary>
public sealed class ApiKeyRevocationReplicaTests
{
    [Fact]
    public async Task A_key_revoked_on_one_replica_is_refused_by_another_within_seconds()
    {
        await using var first = new ApiFactory();
        await first.InitializeAsync();
        await using var second = new ApiFactory { SharedConnectionString = first.ConnectionString };
        await second.InitializeAsync();
        var tenant = await TestTenant.CreateAsync(first);
        using var onSecond = second.CreateClient(tenant.ApiKey);
        Assert.Equal(HttpStatusCode.OK, (await onSecond.GetAsync(tenant.Path())).StatusCode); // now cached there as valid

        using var admin = first.CreateAdminClient();
        var keysPath = $"/api/admin/organizations/{tenant.OrganizationId}/api-keys";
        var key = Assert.Single(await TestTenant.ReadAsync<List<ApiKeyResponse>>(await admin.GetAsync(keysPath), HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"{keysPath}/{key.Id}/revoke", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await tenant.Client.GetAsync(tenant.Path())).StatusCode);

        // The second replica re-reads a cached key every Auth:KeyCache:HitTtl (5 s); the deadline only allows for a slow machine.
        var waited = Stopwatch.StartNew();
        while ((await onSecond.GetAsync(tenant.Path())).StatusCode != HttpStatusCode.Unauthorized)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the second replica still accepts the revoked key");
            await Task.Delay(200);
        }
    }
}
