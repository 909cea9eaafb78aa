using Microsoft.EntityFrameworkCore;
using Npgsql;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Donors;

namespace ProLifeProsper.Api.Services;

/// <summary>Donors; always PostgreSQL.</summary>
public sealed class DonorService(ProLifeProsperDbContext db, TimeProvider time)
{
    public async Task<Donor> CreateAsync(Guid organizationId, string? email, string? name, CancellationToken cancellationToken)
    {
        var donor = Donor.Create(organizationId, email, name, UtcClock.Now(time));
        db.Donors.Add(donor);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            throw DomainErrors.DuplicateDonorEmail(donor.Email);
        }
        return donor;
    }

    public async Task<Donor> GetAsync(Guid organizationId, Guid donorId, CancellationToken cancellationToken) =>
        await FindAsync(organizationId, donorId, cancellationToken) ?? throw DomainErrors.NotFound("donor", donorId);

    public Task<Donor?> FindAsync(Guid organizationId, Guid donorId, CancellationToken cancellationToken) =>
        db.Donors.AsNoTracking().FirstOrDefaultAsync(d => d.Id == donorId && d.OrganizationId == organizationId, cancellationToken);

    public Task<Page<Donor>> ListAsync(Guid organizationId, PageRequest page, CancellationToken cancellationToken) =>
        db.Donors.AsNoTracking().Where(d => d.OrganizationId == organizationId).ToPageAsync(page, cancellationToken);
}
