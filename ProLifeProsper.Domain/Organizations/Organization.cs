using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Domain.Organizations;

/// <summary>A nonprofit: the tenant that owns campaigns, donors and payments, and the API keys that act for it.</summary>
public sealed class Organization
{
    public const int MaxNameLength = 200;

    /// <summary>The longest overlap a rotation may give the keys it replaces.</summary>
    public static readonly TimeSpan MaxKeyOverlap = TimeSpan.FromDays(30);

    private readonly List<ApiKey> _apiKeys = [];

    private Organization(Guid id, string name, DateTimeOffset createdAt)
    {
        Id = id;
        Name = name;
        CreatedAt = createdAt;
    }

    public Guid Id { get; private set; }
    public string Name { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Every key the organization has had, active or not (loaded only where keys are managed).</summary>
    public IReadOnlyCollection<ApiKey> ApiKeys => _apiKeys;

    /// <summary>Creates an organization and its first API key; the plain key is returned only here.</summary>
    public static (Organization Organization, string ApiKey) Create(string? name, DateTimeOffset now)
    {
        new ValidationErrors().RequireText(name, "name", MaxNameLength).ThrowIfAny();
        var organization = new Organization(Guid.CreateVersion7(now), name!.Trim(), now);
        var (_, apiKey) = organization.IssueKey(now);
        return (organization, apiKey);
    }

    /// <summary>
    /// Rotation: issues a new key, and every key active now keeps working for <paramref name="overlap"/> more (zero: they
    /// stop at once), so clients can switch without an outage. The plain key is returned only here.
    /// </summary>
    public (ApiKey Key, string PlainKey) RotateApiKey(TimeSpan overlap, DateTimeOffset now)
    {
        new ValidationErrors()
            .Require(overlap >= TimeSpan.Zero && overlap <= MaxKeyOverlap, "overlapSeconds",
                $"'overlapSeconds' must be from 0 to {(long)MaxKeyOverlap.TotalSeconds} ({MaxKeyOverlap.TotalDays} days).")
            .ThrowIfAny();
        foreach (var key in _apiKeys.Where(k => k.IsActiveAt(now))) key.ExpireBy(now + overlap);
        return IssueKey(now);
    }

    /// <summary>Revokes one key at once (a revoked key is not revoked again: its first revocation time stays).</summary>
    public ApiKey RevokeApiKey(Guid keyId, DateTimeOffset now)
    {
        var key = _apiKeys.FirstOrDefault(k => k.Id == keyId) ?? throw DomainErrors.NotFound("api-key", keyId);
        key.Revoke(now);
        return key;
    }

    private (ApiKey Key, string PlainKey) IssueKey(DateTimeOffset now)
    {
        var issued = ApiKey.Issue(Id, now);
        _apiKeys.Add(issued.Key);
        return issued;
    }
}
