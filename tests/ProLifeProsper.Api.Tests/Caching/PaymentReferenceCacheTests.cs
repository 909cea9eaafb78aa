using ProLifeProsper.Api.Services;

namespace ProLifeProsper.Api.Tests.Caching;

/// <summary>The cache of a payment's campaign and donor look-ups (pure unit: it lives in memory).</summary>
public sealed class PaymentReferenceCacheTests
{
    [Fact]
    public async Task Ids_that_name_nothing_are_remembered_within_the_bound_and_never_beyond_it()
    {
        // A client sending random campaign ids must not grow the cache without limit (nor cost a look-up per repeat).
        using var cache = new PaymentReferenceCache(size: 100);
        var lookUps = 0;
        Task<string?> Missing() { lookUps++; return Task.FromResult<string?>(null); }

        var repeated = Guid.NewGuid();
        Assert.Null(await cache.GetOrLookUpAsync(("campaign", repeated), Missing));
        Assert.Null(await cache.GetOrLookUpAsync(("campaign", repeated), Missing));
        Assert.Equal(1, lookUps);

        for (var i = 0; i < 1_000; i++) Assert.Null(await cache.GetOrLookUpAsync(("campaign", Guid.NewGuid()), Missing));
        Assert.InRange(cache.Count, 1, 100);
        Assert.Equal(1_001, lookUps);

        // Once full it still answers, from the database.
        Assert.Equal("found", await cache.GetOrLookUpAsync(("campaign", Guid.NewGuid()), () => Task.FromResult<string?>("found")));
    }
}
