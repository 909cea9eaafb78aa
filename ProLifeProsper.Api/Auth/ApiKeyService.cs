using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Api.Auth;

/// <summary>Organization API keys: the authentication look-up, and the operator's rotation and revocation.</summary>
public sealed class ApiKeyService(ProLifeProsperDbContext db, ApiKeyCache cache, IOptionsMonitor<AuthOptions> options, TimeProvider time)
{
    /// <summary>The organization of the key that hashes to <paramref name="keyHash"/>, unless it was revoked (expiry is checked by the caller, on its clock).</summary>
    public Task<ApiKeyCache.Grant?> FindGrantAsync(string keyHash, CancellationToken cancellationToken) =>
        db.ApiKeys.AsNoTracking()
            .Where(k => k.KeyHash == keyHash && k.RevokedAt == null)
            .Select(k => new ApiKeyCache.Grant(k.OrganizationId, k.ExpiresAt))
            .FirstOrDefaultAsync(cancellationToken);

    public async Task<IReadOnlyList<ApiKey>> ListAsync(Guid organizationId, CancellationToken cancellationToken) =>
        (await LoadAsync(organizationId, cancellationToken)).ApiKeys.OrderByDescending(k => k.CreatedAt).ToList();

    /// <summary>
    /// Issues a new key; the keys that were active keep working for <paramref name="overlap"/> (the configured
    /// <see cref="AuthOptions.KeyRotationOverlap"/> when null). Returns the new key (plain, once) and every key after the change.
    /// </summary>
    public async Task<(ApiKey Key, string PlainKey, IReadOnlyList<ApiKey> Keys)> RotateAsync(Guid organizationId, TimeSpan? overlap, CancellationToken cancellationToken)
    {
        var (organization, key, plain) = await LockedAsync(organizationId, organization =>
        {
            var (key, plain) = organization.RotateApiKey(overlap ?? options.CurrentValue.KeyRotationOverlap, UtcClock.Now(time));
            return (organization, key, plain);
        }, cancellationToken);
        // This instance applies the new expiries at once; the others within the cache's hit TTL.
        foreach (var old in organization.ApiKeys.Where(k => k.Id != key.Id)) cache.Forget(old.KeyHash);
        return (key, plain, organization.ApiKeys.OrderByDescending(k => k.CreatedAt).ToList());
    }

    /// <summary>Revokes one key: refused at once here, and by every other instance within the cache's hit TTL.</summary>
    public async Task<ApiKey> RevokeAsync(Guid organizationId, Guid keyId, CancellationToken cancellationToken)
    {
        var key = await LockedAsync(organizationId, organization => organization.RevokeApiKey(keyId, UtcClock.Now(time)), cancellationToken);
        cache.Forget(key.KeyHash);
        return key;
    }

    /// <summary>
    /// Changes an organization's keys with its row locked, so two rotations (or a rotation and a revocation) at once see each
    /// other's keys: unlocked, four parallel rotations left four keys that never expire.
    /// </summary>
    private Task<T> LockedAsync<T>(Guid organizationId, Func<Organization, T> change, CancellationToken cancellationToken) =>
        db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.Database.ExecuteSqlInterpolatedAsync($"SELECT id FROM organizations WHERE id = {organizationId} FOR UPDATE", cancellationToken);
            var organization = await LoadAsync(organizationId, cancellationToken, tracked: true);
            var result = change(organization);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return result;
        });

    private async Task<Organization> LoadAsync(Guid organizationId, CancellationToken cancellationToken, bool tracked = false)
    {
        var query = db.Organizations.Include(o => o.ApiKeys).Where(o => o.Id == organizationId);
        return await (tracked ? query : query.AsNoTracking()).FirstOrDefaultAsync(cancellationToken)
            ?? throw DomainErrors.NotFound("organization", organizationId);
    }
}
