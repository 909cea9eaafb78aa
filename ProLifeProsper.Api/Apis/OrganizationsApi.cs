using Microsoft.AspNetCore.Http.HttpResults;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Auth;
using ProLifeProsper.Api.Services;

namespace ProLifeProsper.Api.Apis;

public static class OrganizationsApi
{
    public static IEndpointRouteBuilder MapOrganizationsApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/organizations").WithTags("Organizations");
        admin.MapPost("/", CreateOrganization)
            .RequireAuthorization(ApiKeyDefaults.AdminPolicy)
            .WithName("CreateOrganization")
            .WithSummary("Create an organization (admin key); its API key is returned once, in this response.");

        app.MapOrganizationGroup("", "Organizations")
            .MapGet("", GetOrganization)
            .WithName("GetOrganization")
            .WithSummary("Get an organization.");
        return app;
    }

    public static async Task<Created<CreatedOrganizationResponse>> CreateOrganization(
        CreateOrganizationRequest request, OrganizationService organizations, CancellationToken cancellationToken)
    {
        var (organization, apiKey) = await organizations.CreateAsync(request.Name, cancellationToken);
        return TypedResults.Created($"/api/organizations/{organization.Id}",
            new CreatedOrganizationResponse(organization.Id, organization.Name, apiKey, organization.CreatedAt));
    }

    public static async Task<Ok<OrganizationResponse>> GetOrganization(Guid orgId, OrganizationService organizations, CancellationToken cancellationToken) =>
        TypedResults.Ok(OrganizationResponse.From(await organizations.GetAsync(orgId, cancellationToken)));
}
