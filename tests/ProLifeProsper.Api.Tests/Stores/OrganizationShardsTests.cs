using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ProLifeProsper.Api.Errors;
using ProLifeProsper.Api.Storage.DynamoDb;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>The rule that keeps every replica's shard map in agreement without a read per request (pure unit tests: no store involved).</summary>
public sealed class OrganizationShardsTests
{
    private sealed class CountingSource : IOrganizationShardSource
    {
        public int Loads;
        public bool Fail;
        public OrganizationShardMap Map = OrganizationShardMap.Unsplit;

        public Task<OrganizationShardMap> LoadAsync(CancellationToken cancellationToken)
        {
            Loads++;
            return Fail ? throw new TimeoutException("PostgreSQL did not answer") : Task.FromResult(Map);
        }
    }

    [Fact]
    public async Task A_map_is_trusted_only_for_payments_created_before_a_change_recorded_after_it_could_take_effect()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        var source = new CountingSource();
        var shards = new OrganizationShards(source, time, NullLogger<OrganizationShards>.Instance);
        var org = Guid.CreateVersion7();

        Assert.Equal(1, (await shards.ForAsync(org, time.GetUtcNow(), default)).ShardsAt(time.GetUtcNow()));
        Assert.Equal(1, source.Loads);

        // A change recorded a moment later takes effect Lead after it: until then nobody writes with it, so the map read stays good.
        source.Map = new OrganizationShardMap(new Dictionary<Guid, OrganizationShardHistory>
        {
            [org] = new([new(time.GetUtcNow().AddSeconds(1) + OrganizationShards.Lead, 8)]),
        }, OrganizationShardHistory.Single);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, (await shards.ForAsync(org, time.GetUtcNow(), default)).ShardsAt(time.GetUtcNow()));
        Assert.Equal(1, source.Loads);

        // Past what the first read can vouch for (Lead minus the clock skew), the map is read again before it is used.
        time.Advance(OrganizationShards.Lead - OrganizationShards.ClockSkew);
        var history = await shards.ForAsync(org, time.GetUtcNow(), default);
        Assert.Equal(2, source.Loads);
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(8, history.ShardsAt(time.GetUtcNow()));
    }

    [Fact]
    public async Task A_replica_that_cannot_read_the_map_refuses_with_503_instead_of_guessing_where_a_payment_belongs()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        var source = new CountingSource();
        var shards = new OrganizationShards(source, time, NullLogger<OrganizationShards>.Instance);
        await shards.ForAsync(Guid.CreateVersion7(), time.GetUtcNow(), default);

        source.Fail = true;
        time.Advance(OrganizationShards.Lead);
        var refused = await Assert.ThrowsAsync<ServiceUnavailableException>(() => shards.ForAsync(Guid.CreateVersion7(), time.GetUtcNow(), default).AsTask());
        Assert.Equal("shard-map-unavailable", refused.Code);
        // Reads of payments created long ago need no fresh map.
        await shards.ForAsync(Guid.CreateVersion7(), time.GetUtcNow().AddHours(-1), default);
    }

    [Fact]
    public void A_payment_keeps_its_shard_when_the_count_changes_and_a_read_asks_every_shard_a_count_used()
    {
        var t = new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
        var history = new OrganizationShardHistory([new(t, 13), new(t.AddHours(1), 4)]);
        Assert.Equal(1, history.ShardsAt(t.AddTicks(-1)));
        Assert.Equal(13, history.ShardsAt(t));
        Assert.Equal(4, history.ShardsAt(t.AddHours(2)));
        Assert.Equal(13, history.ShardsDuring(t.AddHours(-1), t.AddHours(3)));
        Assert.Equal(4, history.ShardsDuring(t.AddHours(1), t.AddHours(3)));
        Assert.Equal(1, history.ShardsDuring(t.AddHours(-2), t)); // the change at t is outside [from, t)
        Assert.Equal(13, history.ShardsEver);
    }

    [Fact]
    public void The_idempotency_partition_of_a_key_never_changes_between_processes()
    {
        // A retry is served by any replica, perhaps after an upgrade: the key's place is a fixed hash (SHA-256), not GetHashCode.
        var org = Guid.Parse("0192f0c2-0000-7000-8000-000000000001");
        Assert.Equal("0192f0c2-0000-7000-8000-000000000001#" + (Convert.ToUInt32(Convert.ToHexString(
            System.Security.Cryptography.SHA256.HashData("order-1234"u8))[..8], 16) % 16), PaymentItemKeys.IdempotencyPartitionOf(org, "order-1234"));
        var spread = Enumerable.Range(0, 1_000).Select(i => PaymentItemKeys.IdempotencyPartitionOf(org, $"key-{i}")).Distinct().Count();
        Assert.Equal(PaymentItemKeys.IdempotencyKeyShards, spread);
    }
}
