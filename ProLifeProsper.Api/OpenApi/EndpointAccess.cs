using Microsoft.AspNetCore.Authorization;
using ProLifeProsper.Api.Auth;

namespace ProLifeProsper.Api.OpenApi;

/// <summary>Which keys an endpoint accepts, read from its authorization metadata the way the authorization middleware reads it.</summary>
internal sealed record EndpointAccess(bool RequiresKey, bool AdminOnly)
{
    public static EndpointAccess Of(IEnumerable<object> endpointMetadata)
    {
        var metadata = endpointMetadata.ToList();
        var authorize = metadata.OfType<IAuthorizeData>().ToList();
        if (authorize.Count == 0 || metadata.OfType<IAllowAnonymous>().Any()) return new EndpointAccess(false, false);
        return new EndpointAccess(true, authorize.Any(a =>
            a.Policy == ApiKeyDefaults.AdminPolicy
            || (a.Roles?.Split(',', StringSplitOptions.TrimEntries).Contains(ApiKeyDefaults.AdminRole) ?? false)));
    }
}
