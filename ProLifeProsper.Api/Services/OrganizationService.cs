using Microsoft.EntityFrameworkCore;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Api.Services;

/// <summary>Organizations (tenants); always PostgreSQL.</summary>
public sealed class OrganizationService(ProLifeProsperDbContext db, TimeProvider time)
{
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

    /// <summary>The organization whose API key hashes to <paramref name="apiKeyHash"/>, if any.</summary>
    public Task<Guid?> FindIdByApiKeyHashAsync(string apiKeyHash, CancellationToken cancellationToken) =>
        db.Organizations.AsNoTracking().Where(o => o.ApiKeyHash == apiKeyHash).Select(o => (Guid?)o.Id).FirstOrDefaultAsync(cancellationToken);
}
