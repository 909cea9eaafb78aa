using System.Net;
using Microsoft.Extensions.DependencyInjection;
using ProLifeProsper.Api.Auth;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>
/// The authentication cache is bounded: made-up keys cannot grow it past its size, malformed ones never reach the database,
/// and a known key keeps working through a flood.
/// </summary>
public sealed class ApiKeyCacheTests(ApiKeyCacheTests.Factory factory) : IClassFixture<ApiKeyCacheTests.Factory>
{
    private const int CacheSize = 32;

    public sealed class Factory : ApiFactory
    {
        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [
            new("Auth:KeyCache:Size", CacheSize.ToString()),
            // Nothing expires during a test, so counts of look-ups are exact.
            new("Auth:KeyCache:HitTtl", "00:30:00"),
            new("Auth:KeyCache:MissTtl", "00:30:00"),
            // This class measures the cache, not the per-address limit (ClientAddressLimitApiTests does).
            new("RateLimits:PerClientAddress:TokenLimit", "1000000"),
            new("RateLimits:PerClientAddress:TokensPerPeriod", "1000000"),
        ];
    }

    private ApiKeyCache Cache => factory.Services.GetRequiredService<ApiKeyCache>();

    [Fact]
    public async Task A_flood_of_unknown_keys_stays_within_the_cache_bound_and_a_valid_key_still_works()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var lookupsBefore = Cache.Lookups;
        const int flood = CacheSize * 10;

        await Parallel.ForEachAsync(Enumerable.Range(0, flood), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, cancellationToken) =>
        {
            using var guesser = factory.CreateClient(OrganizationApiKey.Generate());
            Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.GetAsync(tenant.Path(), cancellationToken)).StatusCode);
        });

        Assert.InRange(Cache.Count, 1, CacheSize);
        Assert.Equal(lookupsBefore + flood, Cache.Lookups);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync(tenant.Path())).StatusCode);
    }

    [Theory]
    [InlineData("plp_org_notarealkey")]
    [InlineData("plp_org_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!")]
    [InlineData("Bearer plp_org_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("something-else-entirely")]
    public async Task Malformed_keys_are_refused_without_a_database_lookup(string key)
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var lookupsBefore = Cache.Lookups;
        using var client = factory.CreateClient(key);
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(tenant.Path())).StatusCode);
        using var tooLong = factory.CreateClient(OrganizationApiKey.Generate() + "A");
        Assert.Equal(HttpStatusCode.Unauthorized, (await tooLong.GetAsync(tenant.Path())).StatusCode);
        Assert.Equal(lookupsBefore, Cache.Lookups);
    }
}

/// <summary>An unknown key is remembered as unknown (in a cache that is not full: a full one may drop it, which is the point).</summary>
public sealed class ApiKeyMissCacheTests(ApiKeyMissCacheTests.Factory factory) : IClassFixture<ApiKeyMissCacheTests.Factory>
{
    public sealed class Factory : ApiFactory
    {
        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [new("Auth:KeyCache:MissTtl", "00:30:00")];
    }

    [Fact]
    public async Task An_unknown_key_presented_again_is_looked_up_once()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var cache = factory.Services.GetRequiredService<ApiKeyCache>();
        var lookupsBefore = cache.Lookups;
        using var client = factory.CreateClient(OrganizationApiKey.Generate());
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(tenant.Path())).StatusCode);
        Assert.Equal(lookupsBefore + 1, cache.Lookups);
    }
}

/// <summary>A key forgotten here (revoked) while a look-up of it was under way is not cached from that look-up's older answer.</summary>
public sealed class ApiKeyCacheRevocationTests
{
    [Fact]
    public async Task A_look_up_that_raced_a_revocation_leaves_nothing_cached()
    {
        using var services = new ServiceCollection().AddOptions().Configure<AuthOptions>(_ => { }).BuildServiceProvider();
        using var cache = new ApiKeyCache(services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<AuthOptions>>());
        var readBeforeTheRevocation = new TaskCompletionSource<ApiKeyCache.Grant?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lookUp = cache.LookUpAsync("hash", (_, _) => readBeforeTheRevocation.Task, default);

        cache.Forget("hash"); // the revocation commits and this instance forgets the key
        readBeforeTheRevocation.SetResult(new ApiKeyCache.Grant(Guid.CreateVersion7(), null));

        Assert.NotNull(await lookUp); // the request that asked before the revocation is answered as it was
        Assert.False(cache.TryGet("hash", out _)); // but the next one asks the database again
        Assert.False(cache.WasRecentlyValid("hash"));

        await cache.LookUpAsync("hash", (_, _) => Task.FromResult<ApiKeyCache.Grant?>(new ApiKeyCache.Grant(Guid.CreateVersion7(), null)), default);
        Assert.True(cache.TryGet("hash", out var grant) && grant is not null); // look-ups after it are kept as before
        Assert.True(cache.WasRecentlyValid("hash"));
    }
}

/// <summary>Look-ups of keys the cache does not know are bounded per instance, whatever addresses they come from.</summary>
public sealed class ApiKeyCacheLookupBoundTests
{
    [Fact]
    public async Task Look_ups_from_everywhere_at_once_share_a_bounded_number_of_database_reads()
    {
        using var services = new ServiceCollection().AddOptions().Configure<AuthOptions>(_ => { }).BuildServiceProvider();
        using var cache = new ApiKeyCache(services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<AuthOptions>>());
        var (running, most) = (0, 0);
        async Task<ApiKeyCache.Grant?> SlowFind(string hash, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref running);
            lock (cache) most = Math.Max(most, now);
            await Task.Delay(20, cancellationToken);
            Interlocked.Decrement(ref running);
            return null;
        }

        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => cache.LookUpAsync($"made-up-{i}", SlowFind, default)));

        Assert.Equal(ApiKeyCache.ConcurrentLookups, most);
        Assert.Equal(100, cache.Lookups);
    }
}

/// <summary>With every look-up slot taken by keys nobody knows, a key found valid before is still looked up; an unknown one waits briefly, then is refused as unavailable.</summary>
public sealed class ApiKeyCacheLookupSlotTests
{
    [Fact]
    public async Task A_known_clients_key_does_not_queue_behind_made_up_keys()
    {
        using var services = new ServiceCollection().AddOptions()
            .Configure<AuthOptions>(o => o.KeyCache.HitTtl = TimeSpan.FromMilliseconds(1)).BuildServiceProvider();
        using var cache = new ApiKeyCache(services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<AuthOptions>>());
        var valid = new ApiKeyCache.Grant(Guid.CreateVersion7(), null);
        await cache.LookUpAsync("known", (_, _) => Task.FromResult<ApiKeyCache.Grant?>(valid), default);
        await Task.Delay(20); // its cached answer has expired: the next request looks it up again

        var flood = new TaskCompletionSource<ApiKeyCache.Grant?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = Enumerable.Range(0, ApiKeyCache.ConcurrentLookups).Select(i => cache.LookUpAsync($"made-up-{i}", (_, _) => flood.Task, default)).ToList();

        Assert.Equal(valid, await cache.LookUpAsync("known", (_, _) => Task.FromResult<ApiKeyCache.Grant?>(valid), default).WaitAsync(TimeSpan.FromSeconds(1)));
        await Assert.ThrowsAsync<TimeoutException>(() => cache.LookUpAsync("never-seen", (_, _) => Task.FromResult<ApiKeyCache.Grant?>(null), default));

        flood.SetResult(null);
        await Task.WhenAll(held);
    }
}
