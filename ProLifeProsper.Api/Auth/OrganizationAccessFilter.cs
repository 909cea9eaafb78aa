using System.Security.Claims;
using ProLifeProsper.Api.Services;
using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Api.Auth;

/// <summary>
/// Tenant isolation for every <c>/api/organizations/{orgId}/...</c> route: an organization key reaches
/// only its own organization; anything else answers 404, so other tenants' ids are not even confirmed.
/// The admin key reaches every organization that exists (an unknown one is 404 before any handler runs, so no
/// write can reach the database's foreign key and come back as a 500).
/// </summary>
public sealed class OrganizationAccessFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!Guid.TryParse(http.Request.RouteValues["orgId"] as string, out var organizationId) || !CanAccess(http.User, organizationId))
            throw DomainErrors.NotFound("organization", organizationId);
        if (http.User.IsInRole(ApiKeyDefaults.AdminRole)
            && !await http.RequestServices.GetRequiredService<OrganizationService>().ExistsAsync(organizationId, http.RequestAborted))
            throw DomainErrors.NotFound("organization", organizationId);
        return await next(context);
    }

    public static bool CanAccess(ClaimsPrincipal user, Guid organizationId) =>
        user.IsInRole(ApiKeyDefaults.AdminRole)
        || (Guid.TryParse(user.FindFirstValue(ApiKeyDefaults.OrganizationClaim), out var own) && own == organizationId);
}
