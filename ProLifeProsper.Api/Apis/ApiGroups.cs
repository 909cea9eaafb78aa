using ProLifeProsper.Api.Auth;

namespace ProLifeProsper.Api.Apis;

internal static class ApiGroups
{
    /// <summary>A group under <c>/api/admin</c>: the admin key only.</summary>
    public static RouteGroupBuilder MapAdminGroup(this IEndpointRouteBuilder app, string tag) =>
        app.MapGroup("/api/admin")
            .RequireAuthorization(ApiKeyDefaults.AdminPolicy)
            .WithTags(tag)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

    /// <summary>A group under <c>/api/organizations/{orgId}</c>: authenticated and tenant-isolated.</summary>
    public static RouteGroupBuilder MapOrganizationGroup(this IEndpointRouteBuilder app, string segment, string tag) =>
        app.MapGroup(segment.Length == 0 ? "/api/organizations/{orgId:guid}" : $"/api/organizations/{{orgId:guid}}/{segment}")
            .RequireAuthorization()
            .AddEndpointFilter<OrganizationAccessFilter>()
            .WithTags(tag)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
}
