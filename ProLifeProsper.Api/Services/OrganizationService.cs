using Microsoft.EntityFrameworkCore;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Api.Services;

/// <summary>Organizations (tenants); always PostgreSQL.</summary>
public sealed class OrganizationService(ProLifeProsperDbContext db, TimeProvider time)
{
    /// <summary>Creates an organization with its first API key (stored as a hash; the plain key is returned only here).</summary>
    public async Task<(Organization Organization, string ApiKey)> CreateAsync(string? name, CancellationToken cancellationToken)
    {
        var created = Organization.Create(name, UtcClock.Now(time));
        db.Organizations.Add(created.Organization);
        await db.SaveChangesAsync(cancellationToken);
        return created;
    }

    public async Task<Organization> GetAsync(Guid organizationId, CancellationToken cancellationToken) =>
        await db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == organizationId, cancellationToken)
        ?? throw DomainErrors.NotFound("organization", organizationId);

    public Task<bool> ExistsAsync(Guid organizationId, CancellationToken cancellationToken) =>
        db.Organizations.AsNoTracking().AnyAsync(o => o.Id == organizationId, cancellationToken);
}
