using System.Security.Claims;
using ProLifeProsper.Api.Services;
using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Api.Auth;

/// <summary>
/// Tenant isolation for every <c>/api/organizations/{orgId}/...</c> route: an organization key reaches only its own
/// organization; anything else answers 404, so other tenants' ids are not even confirmed. The admin key reaches every
/// organization that exists (an unknown one is 404 before any handler runs, so no write can reach the database's foreign
/// key and come back as a 500). A middleware, after authorization and before the endpoint binds its input: a request for
/// another organization is 404 whatever its body or query string, never a 400 that parsed them.
/// </summary>
public static class OrganizationAccess
{
    /// <summary>Endpoint metadata: the route's <c>{orgId}</c> must be one the caller may reach.</summary>
    public sealed class Required
    {
        public static readonly Required Instance = new();

        private Required()
        {
        }
    }

    public static WebApplication UseOrganizationAccess(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<Required>() is not null) await CheckAsync(context);
            await next(context);
        });
        return app;
    }

    public static bool CanAccess(ClaimsPrincipal user, Guid organizationId) =>
        user.IsInRole(ApiKeyDefaults.AdminRole)
        || (Guid.TryParse(user.FindFirstValue(ApiKeyDefaults.OrganizationClaim), out var own) && own == organizationId);

    private static async Task CheckAsync(HttpContext http)
    {
        if (!Guid.TryParse(http.Request.RouteValues["orgId"] as string, out var organizationId) || !CanAccess(http.User, organizationId))
            throw DomainErrors.NotFound("organization", organizationId);
        if (http.User.IsInRole(ApiKeyDefaults.AdminRole)
            && !await http.RequestServices.GetRequiredService<OrganizationService>().ExistsAsync(organizationId, http.RequestAborted))
            throw DomainErrors.NotFound("organization", organizationId);
    }
}
