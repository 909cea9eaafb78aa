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

    [Theory]
    [InlineData(239, false)] // 3:59 after the read: a change recorded since cannot take effect yet (Lead 5 min − skew 1 min)
    [InlineData(241, true)]  // 4:01: it could, so the map is read again before a payment created now is placed
    public async Task A_map_vouches_for_payments_created_up_to_lead_minus_clock_skew_after_it_was_read(int secondsLater, bool readAgain)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        var org = Guid.CreateVersion7();
        var source = new CountingSource();
        var shards = new OrganizationShards(source, time, NullLogger<OrganizationShards>.Instance);
        await shards.ForAsync(org, time.GetUtcNow(), default);

        // Recorded a moment after the read, by the rule: effective Lead later.
        source.Map = new OrganizationShardMap(new Dictionary<Guid, OrganizationShardHistory>
        {
            [org] = new([new(time.GetUtcNow().AddSeconds(1) + OrganizationShards.Lead, 8)]),
        }, OrganizationShardHistory.Single);
        time.Advance(TimeSpan.FromSeconds(secondsLater));
        var history = await shards.ForAsync(org, time.GetUtcNow(), default);

        Assert.Equal(readAgain ? 1 : 0, history.Changes.Count); // the answer comes from a fresh read only past the window
        Assert.Equal(1, history.ShardsAt(time.GetUtcNow()));    // and the change is not in effect yet either way
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
        Assert.Equal(2, source.Loads);
        Assert.Equal("shard-map-unavailable", refused.Code);
        // Reads of payments created long ago need no fresh map.
        await shards.ForAsync(Guid.CreateVersion7(), time.GetUtcNow().AddHours(-1), default);
    }

    [Fact]
    public async Task The_DynamoDB_store_refuses_a_write_before_the_donor_is_charged_when_it_cannot_place_the_payment()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var source = new CountingSource { Fail = true };
        var options = Microsoft.Extensions.Options.Options.Create(new DynamoDbOptions());
        // No DynamoDB call is made: the check is the shard map's (the client points nowhere).
        using var nowhere = new Amazon.DynamoDBv2.AmazonDynamoDBClient(new Amazon.Runtime.BasicAWSCredentials("x", "x"),
            new Amazon.DynamoDBv2.AmazonDynamoDBConfig { ServiceURL = "http://127.0.0.1:9" });
        var store = new DynamoDbPaymentTransactionStore(nowhere, new DynamoDbCaller(null, options), options,
            organizationShards: new OrganizationShards(source, time, NullLogger<OrganizationShards>.Instance));

        var refused = await Assert.ThrowsAsync<ServiceUnavailableException>(() => store.EnsureWritableAsync(default));
        Assert.Equal("shard-map-unavailable", refused.Code);
        source.Fail = false;
        await store.EnsureWritableAsync(default);
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
