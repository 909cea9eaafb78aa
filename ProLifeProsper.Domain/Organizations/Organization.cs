using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Domain.Organizations;

/// <summary>A nonprofit: the tenant that owns campaigns, donors and payments.</summary>
public sealed class Organization
{
    public const int MaxNameLength = 200;

    private Organization(Guid id, string name, string apiKeyHash, DateTimeOffset createdAt)
    {
        Id = id;
        Name = name;
        ApiKeyHash = apiKeyHash;
        CreatedAt = createdAt;
    }

    public Guid Id { get; private set; }
    public string Name { get; private set; }

    /// <summary>SHA-256 of the organization's API key; the key itself is shown once and never stored.</summary>
    public string ApiKeyHash { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Creates an organization and its API key; the plain key is returned only here.</summary>
    public static (Organization Organization, string ApiKey) Create(string? name, DateTimeOffset now)
    {
        new ValidationErrors().RequireText(name, "name", MaxNameLength).ThrowIfAny();
        var apiKey = OrganizationApiKey.Generate();
        return (new Organization(Guid.CreateVersion7(now), name!.Trim(), OrganizationApiKey.Hash(apiKey), now), apiKey);
    }
}
