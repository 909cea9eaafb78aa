using ProLifeProsper.Domain.Donors;

namespace ProLifeProsper.Api.Apis.Contracts;

public sealed record CreateDonorRequest(string? Email, string? Name);

public sealed record DonorResponse(Guid Id, Guid OrganizationId, string Email, string Name, DateTimeOffset CreatedAt)
{
    public static DonorResponse From(Donor d) => new(d.Id, d.OrganizationId, d.Email, d.Name, d.CreatedAt);
}
