using Microsoft.EntityFrameworkCore;
using Npgsql;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Api.Infrastructure.Rows;
using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Api.Services;

/// <summary>
/// Creates of campaigns and donors that a client may retry, with Stripe's semantics as for payments. With an
/// Idempotency-Key the key commits in the same transaction as the row it created, so a retry after a lost answer is
/// answered with the same resource, the key with another request is refused (422), and racing requests with one key create
/// one row: the database's primary key decides, not a read before the insert. Without a key a create is as before.
/// </summary>
public sealed class IdempotentCreates(ProLifeProsperDbContext db)
{
    /// <param name="created">The new entity, valid and not yet added.</param>
    /// <param name="find">Finds an earlier create's resource in the organization.</param>
    public async Task<IdempotentResult<T>> CreateAsync<T>(Guid organizationId, string? key, string fingerprint, T created, Guid resourceId,
        DateTimeOffset now, Func<Guid, CancellationToken, Task<T?>> find, CancellationToken cancellationToken) where T : class
    {
        db.Add(created);
        if (key is not null)
        {
            db.IdempotentCreates.Add(new IdempotentCreateRow
            {
                OrganizationId = organizationId, IdempotencyKey = key, Fingerprint = fingerprint, ResourceId = resourceId, CreatedAt = now,
            });
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return new IdempotentResult<T>(created, Replayed: false);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            // Our own row: the connection's retry of a commit whose acknowledgement was lost found it committed.
            if (await find(resourceId, cancellationToken) is { } ours) return new IdempotentResult<T>(ours, Replayed: false);
            if (key is null) throw;
            // Either this key was taken, or another unique rule was broken (a donor's email) possibly by the first request
            // with this key, which committed while ours waited on it. The committed key answers; without one, the rule does.
            var earlier = await db.IdempotentCreates.AsNoTracking()
                .FirstOrDefaultAsync(r => r.OrganizationId == organizationId && r.IdempotencyKey == key, cancellationToken);
            if (earlier is null) throw;
            if (earlier.Fingerprint != fingerprint) throw DomainErrors.IdempotencyKeyReused();
            // Campaigns and donors are never deleted, so the resource a key names is there.
            var resource = await find(earlier.ResourceId, cancellationToken)
                ?? throw new InvalidOperationException($"The resource {earlier.ResourceId} created under an Idempotency-Key is gone.");
            return new IdempotentResult<T>(resource, Replayed: true);
        }
    }
}
