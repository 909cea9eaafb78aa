using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>
/// Every organization split, and split differently through time (1 shard, then 3, then 5, then back to 2): the history a
/// telethon organization goes through. The whole store contract must hold over it.
/// </summary>
public sealed class ShardedDynamoDbStoreFixture : DynamoDbStoreFixture
{
    public static readonly DateTimeOffset ContractTime = new(2026, 3, 14, 9, 0, 0, TimeSpan.Zero);

    public static readonly OrganizationShardHistory History = new([
        new(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero), 3),
        new(ContractTime.AddSeconds(30), 5),
        new(ContractTime.AddDays(60), 2),
    ]);

    public static OrganizationShards EveryOrganizationSplit() =>
        OrganizationShards.Fixed(new OrganizationShardMap(new Dictionary<Guid, OrganizationShardHistory>(), History));

    protected override OrganizationShards OrganizationShards => EveryOrganizationSplit();
}

public sealed class ShardedDynamoDbPaymentTransactionStoreTests(ShardedDynamoDbStoreFixture fixture)
    : PaymentTransactionStoreContract, IClassFixture<ShardedDynamoDbStoreFixture>
{
    protected override IPaymentTransactionStore Store => fixture.Store;

    [Fact]
    public async Task Payments_written_across_shard_changes_are_spread_over_partitions_and_all_found_by_get_list_and_totals()
    {
        var org = Guid.CreateVersion7();
        var campaign = Guid.CreateVersion7();
        var start = ShardedDynamoDbStoreFixture.ContractTime;
        // 60 before the change to 5 shards, 60 after it, 30 after the change back to 2: every count of the history in use.
        var times = Enumerable.Range(0, 60).Select(i => start.AddSeconds(-60 + i))
            .Concat(Enumerable.Range(0, 60).Select(i => start.AddSeconds(31 + i)))
            .Concat(Enumerable.Range(0, 30).Select(i => start.AddDays(60).AddSeconds(i)))
            .ToList();
        var payments = new List<PaymentTransaction>();
        foreach (var (at, i) in times.Select((t, i) => (t, i)))
        {
            var payment = NewPayment(org, at, amount: 100 + i, campaign: campaign);
            await Store.CreateAsync(payment, RecordFor(payment, $"k{i}"), default);
            payments.Add(payment);
        }

        // Really spread: the organization's items sit under 5 partition keys (shards 0..4), none under a sixth.
        var partitions = await DynamoDbPaymentCount.PerPartitionAsync(fixture.Options.TablePrefix, org, shards: 6);
        Assert.All(Enumerable.Range(0, 5), shard => Assert.True(partitions[shard] > 0, $"shard {shard} holds nothing: {string.Join(", ", partitions)}"));
        Assert.Equal(0, partitions[5]);
        Assert.Equal(payments.Count, partitions.Sum());

        // Get by id: one GetItem each, straight to its shard.
        foreach (var payment in payments) Assert.Equal(payment, await Store.GetAsync(org, payment.TransactionId, default));

        // Lists, newest first, page by page across shards: every payment once, in order, whatever the page size (a page of 40
        // reads each shard in steps and reads on only where the page is held back; the newest 30 sit in 2 of the 5 shards).
        foreach (var limit in new[] { 1, 7, 40, 500 })
        {
            var listed = new List<PaymentTransaction>();
            PageCursor? cursor = null;
            do
            {
                var page = await Store.ListAsync(new PaymentListQuery(org, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, null, limit, cursor), default);
                Assert.True(page.Items.Count == limit || page.Next is null, $"limit {limit}: a short page ({page.Items.Count}) before the end");
                listed.AddRange(page.Items);
                cursor = page.Next;
            }
            while (cursor is not null);
            Assert.Equal(payments.OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.TransactionId.ToString()).Select(p => p.TransactionId),
                listed.Select(p => p.TransactionId));
        }

        // A range inside one era, and totals over all of them.
        var middle = await Store.ListAsync(new PaymentListQuery(org, start.AddSeconds(31), start.AddSeconds(91), null, 100, null), default);
        Assert.Equal(60, middle.Items.Count);
        var totals = await Store.GetCampaignTotalsAsync(org, [campaign], default);
        Assert.Equal(new CampaignTotals(payments.Sum(p => p.AmountMinor), payments.Count), totals[campaign]);
        var hourly = await Store.GetHourlyTotalsAsync(org, start.AddHours(-1), start.AddHours(1), default);
        Assert.Equal(120, hourly.Sum(h => h.Count));
        // 110 days: kept totals of closed hours, each read once from every shard of its era.
        var longRange = await Store.GetHourlyTotalsAsync(org, start.AddDays(-40), start.AddDays(70), default);
        Assert.Equal(payments.Count, longRange.Sum(h => h.Count));
        Assert.Equal(payments.Sum(p => p.AmountMinor), longRange.Sum(h => h.AmountMinor));
    }

    [Fact]
    public async Task A_filtered_list_over_shards_pages_through_every_match_within_its_read_budget()
    {
        var settings = new DynamoDbOptions { TablePrefix = fixture.Options.TablePrefix, WriteShards = 4, MaxItemsReadPerFilteredPage = 20 };
        var options = Options.Create(settings);
        var store = new DynamoDbPaymentTransactionStore(fixture.Client, new DynamoDbCaller(null, options), options,
            organizationShards: ShardedDynamoDbStoreFixture.EveryOrganizationSplit());
        var org = Guid.CreateVersion7();
        var start = ShardedDynamoDbStoreFixture.ContractTime.AddMinutes(5); // 5 shards
        var refunded = new List<Guid>();
        for (var i = 0; i < 120; i++)
        {
            var payment = NewPayment(org, start.AddSeconds(i), status: i % 17 == 0 ? PaymentStatus.Refunded : PaymentStatus.Succeeded);
            await store.CreateAsync(payment, RecordFor(payment, $"f{i}"), default);
            if (payment.Status == PaymentStatus.Refunded) refunded.Add(payment.TransactionId);
        }

        var found = new List<Guid>();
        PageCursor? cursor = null;
        var requests = 0;
        do
        {
            var page = await store.ListAsync(new PaymentListQuery(org, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, PaymentStatus.Refunded, 2, cursor), default);
            Assert.All(page.Items, p => Assert.Equal(PaymentStatus.Refunded, p.Status));
            found.AddRange(page.Items.Select(p => p.TransactionId));
            cursor = page.Next;
            Assert.True(++requests < 100, "the pages never end");
        }
        while (cursor is not null);

        Assert.Equal(Enumerable.Reverse(refunded), found); // every match, once, newest first
        Assert.True(requests >= 120 / 20, $"{requests} requests: each may read at most 20 items");
    }
}
