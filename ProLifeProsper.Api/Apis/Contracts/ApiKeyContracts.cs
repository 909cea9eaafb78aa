using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Api.Apis.Contracts;

/// <summary>A rotation; <c>overlapSeconds</c> is how long the replaced keys keep working (default <c>Auth:KeyRotationOverlap</c>, 0 = stop now).</summary>
public sealed record RotateApiKeyRequest(long? OverlapSeconds);

/// <summary>A key as the operator sees it: never the key or its hash.</summary>
public sealed record ApiKeyResponse(Guid Id, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, bool Active)
{
    public static ApiKeyResponse From(ApiKey key, DateTimeOffset now) => new(key.Id, key.CreatedAt, key.ExpiresAt, key.RevokedAt, key.IsActiveAt(now));
}

/// <summary>The only response that carries a rotated key (<c>apiKey</c>), with every key of the organization after the rotation.</summary>
public sealed record RotatedApiKeyResponse(Guid Id, Guid OrganizationId, string ApiKey, DateTimeOffset CreatedAt, IReadOnlyList<ApiKeyResponse> Keys);
