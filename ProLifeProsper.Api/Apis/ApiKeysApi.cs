using Microsoft.AspNetCore.Http.HttpResults;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Organizations;
using ProLifeProsper.Api.Auth;

namespace ProLifeProsper.Api.Apis;

/// <summary>The operator's key management (admin key): rotate an organization's key with an overlap, revoke one, list them.</summary>
public static class ApiKeysApi
{
    public static IEndpointRouteBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var keys = app.MapAdminGroup("API keys").MapGroup("/organizations/{orgId:guid}/api-keys")
            .ProducesProblem(StatusCodes.Status404NotFound);
        keys.MapGet("/", ListApiKeys).WithName("ListApiKeys")
            .WithSummary("An organization's API keys, newest first: when each was made, expires and was revoked (never the key itself).");
        keys.MapPost("/", RotateApiKey).WithName("RotateApiKey")
            .WithSummary("Issue a new key (returned once, in this response); the keys active now keep working for overlapSeconds (default 24 h).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        keys.MapPost("/{keyId:guid}/revoke", RevokeApiKey).WithName("RevokeApiKey")
            .WithSummary("Revoke one key: refused at once by this instance and within seconds by every other.");
        return app;
    }

    public static async Task<Ok<List<ApiKeyResponse>>> ListApiKeys(Guid orgId, ApiKeyService keys, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = UtcClock.Now(time);
        return TypedResults.Ok((await keys.ListAsync(orgId, cancellationToken)).Select(k => ApiKeyResponse.From(k, now)).ToList());
    }

    public static async Task<Created<RotatedApiKeyResponse>> RotateApiKey(
        Guid orgId, RotateApiKeyRequest? request, ApiKeyService keys, TimeProvider time, CancellationToken cancellationToken)
    {
        TimeSpan? overlap = null;
        if (request?.OverlapSeconds is { } seconds)
        {
            var max = (long)Organization.MaxKeyOverlap.TotalSeconds;
            new ValidationErrors().Require(seconds >= 0 && seconds <= max, "overlapSeconds", $"'overlapSeconds' must be from 0 to {max}.").ThrowIfAny();
            overlap = TimeSpan.FromSeconds(seconds);
        }
        var (key, plain, all) = await keys.RotateAsync(orgId, overlap, cancellationToken);
        var now = UtcClock.Now(time);
        return TypedResults.Created($"/api/admin/organizations/{orgId}/api-keys",
            new RotatedApiKeyResponse(key.Id, orgId, plain, key.CreatedAt, all.Select(k => ApiKeyResponse.From(k, now)).ToList()));
    }

    public static async Task<Ok<ApiKeyResponse>> RevokeApiKey(Guid orgId, Guid keyId, ApiKeyService keys, TimeProvider time, CancellationToken cancellationToken) =>
        TypedResults.Ok(ApiKeyResponse.From(await keys.RevokeAsync(orgId, keyId, cancellationToken), UtcClock.Now(time)));
}
