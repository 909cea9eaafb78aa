using Microsoft.EntityFrameworkCore;
using Npgsql;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Donors;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Services;

/// <summary>Donors; always PostgreSQL.</summary>
public sealed class DonorService(ProLifeProsperDbContext db, IdempotentCreates creates, TimeProvider time)
{
    /// <summary>Registers a donor; a retry with the same <paramref name="idempotencyKey"/> answers with the first one.</summary>
    public async Task<IdempotentResult<Donor>> CreateAsync(Guid organizationId, string? idempotencyKey, string? email, string? name, CancellationToken cancellationToken)
    {
        var now = UtcClock.Now(time);
        var donor = Donor.Create(organizationId, email, name, now);
        var fingerprint = IdempotencyFingerprint.Of("donors.create", donor.NormalizedEmail, donor.Name); // as kept: a retry differing only in form replays
        try
        {
            return await creates.CreateAsync(organizationId, idempotencyKey, fingerprint, donor, donor.Id, now,
                (id, ct) => FindAsync(organizationId, id, ct), cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            throw DomainErrors.DuplicateDonorEmail(donor.Email);
        }
    }

    public async Task<Donor> GetAsync(Guid organizationId, Guid donorId, CancellationToken cancellationToken) =>
        await FindAsync(organizationId, donorId, cancellationToken) ?? throw DomainErrors.NotFound("donor", donorId);

    public Task<Donor?> FindAsync(Guid organizationId, Guid donorId, CancellationToken cancellationToken) =>
        db.Donors.AsNoTracking().FirstOrDefaultAsync(d => d.Id == donorId && d.OrganizationId == organizationId, cancellationToken);

    public Task<Page<Donor>> ListAsync(Guid organizationId, PageRequest page, CancellationToken cancellationToken) =>
        db.Donors.AsNoTracking().Where(d => d.OrganizationId == organizationId).ToPageAsync(page, cancellationToken);
}
