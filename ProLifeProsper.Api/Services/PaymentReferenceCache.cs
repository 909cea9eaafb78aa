using Microsoft.Extensions.Caching.Memory;

namespace ProLifeProsper.Api.Services;

/// <summary>
/// The campaigns and donors a payment names, looked up on every create and kept a few seconds: an organization's campaigns
/// and donors never move to another organization and are never deleted (a campaign's status or dates may lag by this much).
/// Bounded, and apart from the process's shared cache: ids that name nothing are kept too (a client repeating a bad id costs
/// one look-up), and random ones would otherwise grow a shared cache without limit; once full, look-ups simply go to the
/// database until entries expire.
/// </summary>
public sealed class PaymentReferenceCache(int size = PaymentReferenceCache.DefaultSize) : IDisposable
{
    public const int DefaultSize = 100_000;

    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(10);

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = size });

    /// <summary>Entries held now (for tests).</summary>
    internal int Count => _cache.Count;

    public async Task<T> GetOrLookUpAsync<T>(object key, Func<Task<T>> lookUp)
    {
        if (_cache.TryGetValue(key, out T? known)) return known!;
        var found = await lookUp();
        using (var entry = _cache.CreateEntry(key))
        {
            entry.Size = 1;
            entry.AbsoluteExpirationRelativeToNow = Lifetime;
            entry.Value = found;
        }
        return found;
    }

    public void Dispose() => _cache.Dispose();
}
