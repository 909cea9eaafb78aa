using System.Net;
using System.Net.Http.Json;
using Npgsql;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>The operator rotates an organization's key with an overlap, and revokes keys; only the admin key may.</summary>
public sealed class ApiKeyRotationApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private static string KeysPath(Guid organizationId) => $"/api/admin/organizations/{organizationId}/api-keys";

    [Fact]
    public async Task Both_keys_work_during_the_overlap_and_only_the_new_one_after_it()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var admin = factory.CreateAdminClient();
        var rotated = await TestTenant.ReadAsync<RotatedApiKeyResponse>(
            await admin.PostAsJsonAsync(KeysPath(tenant.OrganizationId), new { }), HttpStatusCode.Created);

        Assert.True(OrganizationApiKey.IsWellFormed(rotated.ApiKey));
        Assert.NotEqual(tenant.ApiKey, rotated.ApiKey);
        Assert.Equal(7, rotated.Id.Version);
        var old = Assert.Single(rotated.Keys, k => k.Id != rotated.Id);
        Assert.True(old.Active);
        Assert.Equal(rotated.CreatedAt.AddHours(24), old.ExpiresAt); // the default overlap
        Assert.Null(Assert.Single(rotated.Keys, k => k.Id == rotated.Id).ExpiresAt);
        // Only hashes are stored.
        Assert.Equal(new[] { OrganizationApiKey.Hash(tenant.ApiKey), OrganizationApiKey.Hash(rotated.ApiKey) }.Order(),
            (await HashesStored(tenant.OrganizationId)).Order());

        using var renewed = factory.CreateClient(rotated.ApiKey);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync(tenant.Path())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await renewed.GetAsync(tenant.Path())).StatusCode);

        factory.Clock.Advance(TimeSpan.FromHours(24));
        Assert.Equal(HttpStatusCode.Unauthorized, (await tenant.Client.GetAsync(tenant.Path())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await renewed.GetAsync(tenant.Path())).StatusCode);
    }

    [Fact]
    public async Task Rotations_at_once_leave_exactly_one_key_without_an_end()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var admin = factory.CreateAdminClient();
        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            admin.PostAsync(KeysPath(tenant.OrganizationId), JsonContent.Create(new { overlapSeconds = 0 }))));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.StatusCode));
        var keys = System.Text.Json.Nodes.JsonNode.Parse(await admin.GetStringAsync(KeysPath(tenant.OrganizationId)))!.AsArray();
        Assert.Single(keys, k => (bool)k!["active"]! && k["expiresAt"] is null);
    }

    [Fact]
    public async Task A_revoked_key_is_refused_at_once_and_the_new_key_goes_on()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var admin = factory.CreateAdminClient();
        var rotated = await TestTenant.ReadAsync<RotatedApiKeyResponse>(
            await admin.PostAsJsonAsync(KeysPath(tenant.OrganizationId), new { overlapSeconds = 3_600 }), HttpStatusCode.Created);
        var old = Assert.Single(rotated.Keys, k => k.Id != rotated.Id);
        Assert.Equal(rotated.CreatedAt.AddHours(1), old.ExpiresAt);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync(tenant.Path())).StatusCode); // cached as valid

        var revoked = await TestTenant.ReadAsync<ApiKeyResponse>(
            await admin.PostAsync($"{KeysPath(tenant.OrganizationId)}/{old.Id}/revoke", null), HttpStatusCode.OK);
        Assert.NotNull(revoked.RevokedAt);
        Assert.False(revoked.Active);

        Assert.Equal(HttpStatusCode.Unauthorized, (await tenant.Client.GetAsync(tenant.Path())).StatusCode);
        using var renewed = factory.CreateClient(rotated.ApiKey);
        Assert.Equal(HttpStatusCode.OK, (await renewed.GetAsync(tenant.Path())).StatusCode);
        var listed = await TestTenant.ReadAsync<List<ApiKeyResponse>>(await admin.GetAsync(KeysPath(tenant.OrganizationId)), HttpStatusCode.OK);
        Assert.Equal([rotated.Id, old.Id], listed.Select(k => k.Id));
        Assert.Equal([true, false], listed.Select(k => k.Active));
        Assert.DoesNotContain(OrganizationApiKey.Prefix, await (await admin.GetAsync(KeysPath(tenant.OrganizationId))).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_overlap_of_zero_replaces_the_key_at_once()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync(tenant.Path())).StatusCode);
        using var admin = factory.CreateAdminClient();
        var rotated = await TestTenant.ReadAsync<RotatedApiKeyResponse>(
            await admin.PostAsJsonAsync(KeysPath(tenant.OrganizationId), new { overlapSeconds = 0 }), HttpStatusCode.Created);

        Assert.Equal(HttpStatusCode.Unauthorized, (await tenant.Client.GetAsync(tenant.Path())).StatusCode);
        using var renewed = factory.CreateClient(rotated.ApiKey);
        Assert.Equal(HttpStatusCode.OK, (await renewed.GetAsync(tenant.Path())).StatusCode);
    }

    [Fact]
    public async Task Only_the_admin_key_manages_keys_and_bad_requests_change_nothing()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var other = await TestTenant.CreateAsync(factory);
        using var admin = factory.CreateAdminClient();
        var ownKeyId = Assert.Single(await TestTenant.ReadAsync<List<ApiKeyResponse>>(await admin.GetAsync(KeysPath(tenant.OrganizationId)), HttpStatusCode.OK)).Id;

        foreach (var organizationId in new[] { tenant.OrganizationId, other.OrganizationId })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await tenant.Client.PostAsJsonAsync(KeysPath(organizationId), new { })).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await tenant.Client.GetAsync(KeysPath(organizationId))).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Forbidden, (await other.Client.PostAsync($"{KeysPath(tenant.OrganizationId)}/{ownKeyId}/revoke", null)).StatusCode);
        using var anonymous = factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync(KeysPath(tenant.OrganizationId), new { })).StatusCode);

        // Another organization's key id under this organization, an unknown organization, overlaps out of range.
        await ProblemAssert.ReadAsync(await admin.PostAsync($"{KeysPath(other.OrganizationId)}/{ownKeyId}/revoke", null), HttpStatusCode.NotFound, "api-key-not-found");
        await ProblemAssert.ReadAsync(await admin.PostAsJsonAsync(KeysPath(Guid.CreateVersion7()), new { }), HttpStatusCode.NotFound, "organization-not-found");
        foreach (var overlapSeconds in new long[] { -1, 31L * 24 * 3600, long.MaxValue })
            await ProblemAssert.ReadAsync(await admin.PostAsJsonAsync(KeysPath(tenant.OrganizationId), new { overlapSeconds }), HttpStatusCode.BadRequest, "validation-failed");

        Assert.Single(await HashesStored(tenant.OrganizationId));
        Assert.Single(await HashesStored(other.OrganizationId));
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync(tenant.Path())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await other.Client.GetAsync(other.Path())).StatusCode);
    }

    private async Task<List<string>> HashesStored(Guid organizationId)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT key_hash FROM organization_api_keys WHERE organization_id = $1", connection)
        {
            Parameters = { new() { Value = organizationId } },
        };
        var hashes = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) hashes.Add(reader.GetString(0));
        return hashes;
    }
}
