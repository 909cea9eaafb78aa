using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace ProLifeProsper.Api.Auth;

/// <summary>
/// What authentication knows about organization keys, by key hash, so the hot path does not ask the database per request.
/// Bounded (<see cref="ApiKeyCacheOptions.Size"/> entries; its own <see cref="MemoryCache"/>, so the bound is not shared
/// with other caches), with a short life for known keys (revocation reaches every replica within
/// <see cref="ApiKeyCacheOptions.HitTtl"/>) and a shorter one for unknown keys, which are also the first to go when it is
/// full: a stream of made-up keys cannot grow memory nor push out the keys of real clients for long.
/// </summary>
public sealed class ApiKeyCache : IDisposable
{
    private static readonly object Unknown = new();

    private readonly MemoryCache _cache;
    private readonly IOptionsMonitor<AuthOptions> _options;
    private long _lookups;
    private long _forgotten;

    /// <summary>
    /// Database look-ups of keys not known valid here, at once, whatever their addresses: the per-address budget counts an
    /// IPv6 /64 as one client, and there are 65,536 of those in a /48 anyone can get, so made-up keys from many addresses
    /// share this bound instead of taking the pool's connections every tenant needs. A look-up waits at most
    /// <see cref="LookupSlotWait"/> for a slot, then its request answers 503. Keys found valid here in the last hour are
    /// looked up outside it, so a flood of made-up keys cannot queue the organizations' own keys behind it.
    /// </summary>
    public const int ConcurrentLookups = 16;

    private static readonly TimeSpan LookupSlotWait = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _lookupSlots = new(ConcurrentLookups);

    public ApiKeyCache(IOptionsMonitor<AuthOptions> options)
    {
        _options = options;
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = Math.Max(1, options.CurrentValue.KeyCache.Size) });
    }

    /// <summary>An active key's organization, and when the key stops working on its own (null: when revoked).</summary>
    public sealed record Grant(Guid OrganizationId, DateTimeOffset? ExpiresAt)
    {
        public bool IsActiveAt(DateTimeOffset now) => ExpiresAt is null || now < ExpiresAt;
    }

    /// <summary>Keys held now, known and unknown (for tests and diagnostics).</summary>
    public int Count => _cache.Count;

    /// <summary>Database look-ups made since start-up (for tests and diagnostics).</summary>
    public long Lookups => Interlocked.Read(ref _lookups);

    /// <summary>True when the cache has an answer: the key's grant, or null for a key that is unknown (or revoked).</summary>
    public bool TryGet(string keyHash, out Grant? grant)
    {
        if (_cache.TryGetValue(keyHash, out var value))
        {
            grant = value as Grant;
            return true;
        }
        grant = null;
        return false;
    }

    /// <summary>
    /// Whether the key was found valid here within the last hour: such a key is looked up again when its answer expires
    /// even while its client address has spent its budget for keys it does not know, so a flood of bad keys from a shared
    /// address (a NAT, an integrator still sending a rotated key) cannot lock out the good keys behind it.
    /// </summary>
    public bool WasRecentlyValid(string keyHash) => _cache.TryGetValue(RecentlyValid(keyHash), out _);

    /// <summary>
    /// Asks the database through <paramref name="find"/> and remembers the answer, unless a key was forgotten here meanwhile
    /// (its answer may predate the revocation that made this instance forget it).
    /// </summary>
    public async Task<Grant?> LookUpAsync(string keyHash, Func<string, CancellationToken, Task<Grant?>> find, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _lookups);
        var generation = Interlocked.Read(ref _forgotten);
        Grant? grant;
        if (WasRecentlyValid(keyHash))
        {
            grant = await find(keyHash, cancellationToken); // a known client's key never queues behind made-up ones
        }
        else
        {
            if (!await _lookupSlots.WaitAsync(LookupSlotWait, cancellationToken))
                throw new TimeoutException("Too many API keys this instance does not know are being looked up at once; try again shortly.");
            try
            {
                grant = await find(keyHash, cancellationToken);
            }
            finally
            {
                _lookupSlots.Release();
            }
        }
        if (Interlocked.Read(ref _forgotten) != generation) return grant;
        var settings = _options.CurrentValue.KeyCache;
        using (var entry = _cache.CreateEntry(keyHash))
        {
            entry.Size = 1;
            entry.Value = grant ?? Unknown;
            entry.AbsoluteExpirationRelativeToNow = grant is null ? settings.MissTtl : settings.HitTtl;
            entry.Priority = grant is null ? CacheItemPriority.Low : CacheItemPriority.Normal;
        }
        if (grant is null) _cache.Remove(RecentlyValid(keyHash));
        else _cache.Set(RecentlyValid(keyHash), true, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = RecentlyValidFor });
        return grant;
    }

    /// <summary>Drops what this instance knows about a key (after it was revoked or cut short here).</summary>
    public void Forget(string keyHash)
    {
        Interlocked.Increment(ref _forgotten); // a look-up under way keeps its answer to itself
        _cache.Remove(keyHash);
        _cache.Remove(RecentlyValid(keyHash));
    }

    private static readonly TimeSpan RecentlyValidFor = TimeSpan.FromHours(1);

    private static string RecentlyValid(string keyHash) => "valid:" + keyHash;

    public void Dispose()
    {
        _cache.Dispose();
        _lookupSlots.Dispose();
    }
}
