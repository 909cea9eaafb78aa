using ProLifeProsper.Api.Errors;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Every replica's view of the organizations' shard histories, and the rule that keeps the views in agreement without a
/// read per request. A change is recorded to take effect <see cref="Lead"/> after it is made (by the database's clock), so a
/// map read at time r holds every change that takes effect before r + Lead − <see cref="ClockSkew"/>: the map is trusted
/// for payments created before then and is read again before it is used for a later one. A replica that cannot read it
/// answers 503 rather than put a payment where its peers would not look.
/// </summary>
public sealed class OrganizationShards(IOrganizationShardSource source, TimeProvider time, ILogger<OrganizationShards> logger)
{
    /// <summary>How long after it is recorded a shard change takes effect.</summary>
    public static readonly TimeSpan Lead = TimeSpan.FromMinutes(5);

    /// <summary>The most any replica's or the database's clock may differ from another's.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    // Read the map again in the background once its trust ends within this, so requests rarely wait for it.
    private static readonly TimeSpan RefreshAhead = TimeSpan.FromMinutes(2);

    // After a failed read, background reads wait this long before trying again (requests that need the map still try).
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(5);

    private sealed record Snapshot(OrganizationShardMap Map, DateTimeOffset TrustedUntil);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Snapshot? _snapshot;
    private int _backgroundRefreshing;
    private long _lastFailureTicks;

    /// <summary>A view of a fixed map, trusted forever (tests and tools).</summary>
    public static OrganizationShards Fixed(OrganizationShardMap map) =>
        new(new FixedOrganizationShardSource(map), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<OrganizationShards>.Instance)
        {
            _snapshot = new Snapshot(map, DateTimeOffset.MaxValue),
        };

    /// <summary>
    /// The organization's history, trusted for payments created up to <paramref name="until"/> (no later than the clock skew
    /// allows any payment to have been created yet).
    /// </summary>
    public async ValueTask<OrganizationShardHistory> ForAsync(Guid organizationId, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (until > now + ClockSkew) until = now + ClockSkew;
        var snapshot = _snapshot;
        if (snapshot is null || until >= snapshot.TrustedUntil) snapshot = await RefreshAsync(until, force: false, cancellationToken);
        else if (snapshot.TrustedUntil - now < RefreshAhead) StartBackgroundRefresh(now);
        return snapshot.Map.For(organizationId);
    }

    /// <summary>Makes sure a payment created now can be placed (before a donor is charged): 503 when the map cannot be read.</summary>
    public async Task EnsureTrustedNowAsync(CancellationToken cancellationToken) =>
        await ForAsync(Guid.Empty, time.GetUtcNow(), cancellationToken);

    /// <summary>Reads the map now (after an operator recorded a change, so this replica shows it at once), and answers it.</summary>
    public async Task<OrganizationShardMap> RefreshAsync(CancellationToken cancellationToken) =>
        (await RefreshAsync(DateTimeOffset.MinValue, force: true, cancellationToken)).Map;

    private async Task<Snapshot> RefreshAsync(DateTimeOffset until, bool force, CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (!force && _snapshot is { } fresh && until < fresh.TrustedUntil) return fresh; // a peer request read it meanwhile
            var started = time.GetUtcNow();
            OrganizationShardMap map;
            try
            {
                map = await source.LoadAsync(cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                Interlocked.Exchange(ref _lastFailureTicks, time.GetUtcNow().UtcTicks);
                logger.LogWarning("The organizations' shard map could not be read ({Error}: {Message})", e.GetType().Name, e.Message);
                throw new ServiceUnavailableException("shard-map-unavailable", "The payments store's partition map cannot be read.",
                    "The organizations' shard map (in PostgreSQL) could not be read, so where a payment belongs in DynamoDB is not known for certain. Check PostgreSQL; this clears by itself once it answers.");
            }
            var snapshot = new Snapshot(map, started + Lead - ClockSkew);
            _snapshot = snapshot;
            return snapshot;
        }
        finally
        {
            _refresh.Release();
        }
    }

    // One background read at a time, and not again within a few seconds of a failed one: a PostgreSQL outage must not turn
    // every request into another attempt.
    private void StartBackgroundRefresh(DateTimeOffset now)
    {
        if (now.UtcTicks - Interlocked.Read(ref _lastFailureTicks) < RetryAfterFailure.Ticks) return;
        if (Interlocked.CompareExchange(ref _backgroundRefreshing, 1, 0) != 0) return;
        _ = Task.Run(async () =>
        {
            try
            {
                await RefreshAsync(now + RefreshAhead, force: false, CancellationToken.None);
            }
            catch (ServiceUnavailableException)
            {
                // Logged; a request that needs a fresh map reads it itself.
            }
            finally
            {
                Interlocked.Exchange(ref _backgroundRefreshing, 0);
            }
        });
    }
}
