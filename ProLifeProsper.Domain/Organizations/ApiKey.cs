namespace ProLifeProsper.Domain.Organizations;

/// <summary>
/// One API key of an organization, stored only as the SHA-256 of the key. A key works until it is revoked or, after a
/// rotation, until the end of the overlap window that lets clients switch to the new key without downtime.
/// </summary>
public sealed class ApiKey
{
    private ApiKey(Guid id, Guid organizationId, string keyHash, DateTimeOffset createdAt)
    {
        Id = id;
        OrganizationId = organizationId;
        KeyHash = keyHash;
        CreatedAt = createdAt;
    }

    public Guid Id { get; private set; }
    public Guid OrganizationId { get; private set; }

    /// <summary>Hex SHA-256 of the key (<see cref="OrganizationApiKey.Hash(string)"/>); the key itself is shown once and never stored.</summary>
    public string KeyHash { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>When the key stops working on its own (set by a rotation); null: until revoked.</summary>
    public DateTimeOffset? ExpiresAt { get; private set; }
    public DateTimeOffset? RevokedAt { get; private set; }

    public bool IsActiveAt(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || now < ExpiresAt);

    /// <summary>A new key: the entity to store and the plain key, which only the caller ever sees.</summary>
    internal static (ApiKey Key, string PlainKey) Issue(Guid organizationId, DateTimeOffset now)
    {
        var plain = OrganizationApiKey.Generate();
        return (new ApiKey(Guid.CreateVersion7(now), organizationId, OrganizationApiKey.Hash(plain), now), plain);
    }

    /// <summary>Makes the key stop working at <paramref name="at"/> at the latest (an earlier end stays).</summary>
    internal void ExpireBy(DateTimeOffset at)
    {
        if (ExpiresAt is null || at < ExpiresAt) ExpiresAt = at;
    }

    internal void Revoke(DateTimeOffset now) => RevokedAt ??= now;
}
