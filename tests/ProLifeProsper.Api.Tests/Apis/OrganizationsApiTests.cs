using System.Net;
using System.Net.Http.Json;
using Npgsql;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Api.Tests.Apis;

public sealed class OrganizationsApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Admin_creates_an_organization_and_its_key_is_shown_once_and_stored_only_as_a_hash()
    {
        using var admin = factory.CreateAdminClient();
        var created = await TestTenant.ReadAsync<CreatedOrganizationResponse>(
            await admin.PostAsJsonAsync("/api/organizations", new { name = "  Hope House  " }), HttpStatusCode.Created);

        Assert.Equal("Hope House", created.Name);
        Assert.StartsWith(OrganizationApiKey.Prefix, created.ApiKey);
        Assert.Equal(7, created.Id.Version);

        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT key_hash FROM organization_api_keys WHERE organization_id = $1", connection) { Parameters = { new() { Value = created.Id } } };
        var stored = (string)(await command.ExecuteScalarAsync())!;
        Assert.NotEqual(created.ApiKey, stored);
        Assert.Equal(OrganizationApiKey.Hash(created.ApiKey), stored);

        using var own = factory.CreateClient(created.ApiKey);
        var fetched = await TestTenant.ReadAsync<OrganizationResponse>(await own.GetAsync($"/api/organizations/{created.Id}"), HttpStatusCode.OK);
        Assert.Equal(created.Id, fetched.Id);
        var body = await (await own.GetAsync($"/api/organizations/{created.Id}")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("apiKey", body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Only_the_admin_key_creates_organizations()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var response = await tenant.Client.PostAsJsonAsync("/api/organizations", new { name = "Sneaky" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    [InlineData("plp_org_notarealkey")]
    public async Task Missing_or_invalid_keys_get_401_problem_details(string? key)
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = factory.CreateClient(key);
        foreach (var path in new[] { "/api/organizations/" + tenant.OrganizationId, tenant.Path("/payments"), tenant.Path("/campaigns") })
        {
            var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        var create = await client.PostAsJsonAsync("/api/organizations", new { name = "x" });
        Assert.Equal(HttpStatusCode.Unauthorized, create.StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task A_blank_name_is_refused(string name)
    {
        using var admin = factory.CreateAdminClient();
        var response = await admin.PostAsJsonAsync("/api/organizations", new { name });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task An_unknown_organization_is_404_for_the_admin()
    {
        using var admin = factory.CreateAdminClient();
        var response = await admin.GetAsync($"/api/organizations/{Guid.CreateVersion7()}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_OpenAPI_document_and_Scalar_UI_are_served()
    {
        using var client = factory.CreateClient();
        var document = await client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("CreatePayment", document);
        Assert.Contains("/api/organizations/{orgId}/payments", document);
        var scalar = await client.GetAsync("/scalar");
        Assert.Equal(HttpStatusCode.OK, scalar.StatusCode);
    }
}
