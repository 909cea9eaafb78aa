using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Api.Apis.Contracts;

public sealed record CreateOrganizationRequest(string? Name);

public sealed record OrganizationResponse(Guid Id, string Name, DateTimeOffset CreatedAt)
{
    public static OrganizationResponse From(Organization o) => new(o.Id, o.Name, o.CreatedAt);
}

/// <summary>The only response that ever carries the organization's API key.</summary>
public sealed record CreatedOrganizationResponse(Guid Id, string Name, string ApiKey, DateTimeOffset CreatedAt);
