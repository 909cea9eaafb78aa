using System.Diagnostics.Metrics;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.Instrumentation;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>Tables of their own on the real test dynalite server.</summary>
public class DynamoDbStoreFixture : IAsyncLifetime
{
    /// <summary>How organizations are split (null: none is).</summary>
    protected virtual OrganizationShards? OrganizationShards => null;

    public IAmazonDynamoDB Client { get; private set; } = null!;
    public DynamoDbOptions Options { get; } = new() { TablePrefix = DynaliteServer.NewTablePrefix("store"), WriteShards = 4 };
    public StoreMetrics Metrics { get; private set; } = null!;
    public DynamoDbPaymentTransactionStore Store { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var server = await DynaliteServer.GetAsync();
        Client = server.CreateClient();
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        Metrics = new StoreMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>(), TimeProvider.System);
        await new DynamoDbTableInitializer(Client, options, NullLogger<DynamoDbTableInitializer>.Instance).EnsureTablesAsync(default);
        Store = new DynamoDbPaymentTransactionStore(Client, new DynamoDbCaller(Metrics, options), options, organizationShards: OrganizationShards);
    }

    public Task DisposeAsync()
    {
        Client.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class DynamoDbPaymentTransactionStoreTests(DynamoDbStoreFixture fixture)
    : PaymentTransactionStoreContract, IClassFixture<DynamoDbStoreFixture>
{
    protected override IPaymentTransactionStore Store => fixture.Store;

    [Fact]
    public async Task Creating_the_tables_again_is_harmless()
    {
        var options = Options.Create(fixture.Options);
        await new DynamoDbTableInitializer(fixture.Client, options, NullLogger<DynamoDbTableInitializer>.Instance).EnsureTablesAsync(default);
        var table = await fixture.Client.DescribeTableAsync(fixture.Options.TransactionsTableName);
        Assert.Equal(
            [PaymentItemKeys.StatusTimestampIndex, PaymentItemKeys.TransactionIdIndex],
            table.Table.GlobalSecondaryIndexes.Select(i => i.IndexName).Order());
    }

    [Fact]
    public async Task Lowering_the_index_shard_count_hides_no_payment_written_with_more_shards()
    {
        // Tables of their own, first written by replicas configured with 8 shards.
        var wide = new DynamoDbOptions { TablePrefix = DynaliteServer.NewTablePrefix("shards"), WriteShards = 8 };
        await new DynamoDbTableInitializer(fixture.Client, Options.Create(wide), NullLogger<DynamoDbTableInitializer>.Instance).EnsureTablesAsync(default);
        var writer = StoreWith(wide);
        await writer.Shards.SyncAsync(default); // as each replica does at start-up (dynalite ignores the tag CreateTable carries)
        var organizationId = Guid.CreateVersion7();
        var hour = PaymentItemKeys.FloorHour(DateTimeOffset.UtcNow.AddHours(-2));
        for (var i = 0; i < 48; i++)
        {
            var payment = NewPayment(organizationId, hour.AddSeconds(i), status: i % 2 == 0 ? PaymentStatus.Pending : PaymentStatus.Succeeded);
            await writer.Store.CreateAsync(payment, RecordFor(payment, $"k{i}"), default);
        }

        // Then a replica starts with 4 (a capacity plan read the wrong way, a copied configuration).
        var narrow = new DynamoDbOptions { TablePrefix = wide.TablePrefix, WriteShards = 4 };
        var reader = StoreWith(narrow);
        await reader.Shards.SyncAsync(default);

        Assert.Equal(8, reader.Shards.ForReads);
        Assert.Equal(8, reader.Shards.ForWrites); // writes too: a peer configured with 8 reads only what it knows
        var pending = await reader.Store.GetPendingAsync(DateTimeOffset.UtcNow, null, 1_000, default);
        Assert.Equal(24, pending.Count(p => p.OrganizationId == organizationId)); // every bank transfer still settles
        var hourly = await reader.Store.GetHourlyTotalsAsync(organizationId, hour, hour.AddHours(1), default);
        Assert.Equal(24, hourly.Sum(h => h.Count)); // and every succeeded payment still counts (analytics read the table, not the index)
    }

    [Fact]
    public async Task A_list_filtered_by_a_rare_status_reads_a_bounded_number_of_items_per_request()
    {
        var settings = new DynamoDbOptions { TablePrefix = fixture.Options.TablePrefix, WriteShards = fixture.Options.WriteShards, MaxItemsReadPerFilteredPage = 50 };
        var store = StoreWith(settings).Store;
        var organizationId = Guid.CreateVersion7();
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var refunded = NewPayment(organizationId, start, status: PaymentStatus.Refunded);
        await store.CreateAsync(refunded, RecordFor(refunded, "refunded"), default);
        for (var i = 1; i <= 200; i++)
        {
            var payment = NewPayment(organizationId, start.AddSeconds(i));
            await store.CreateAsync(payment, RecordFor(payment, $"p{i}"), default);
        }

        // Newest first: the one refunded payment is the oldest of 201. No request reads the whole history to find it.
        var found = new List<PaymentTransaction>();
        var requests = 0;
        ProLifeProsper.Domain.Common.PageCursor? cursor = null;
        do
        {
            var page = await store.ListAsync(new PaymentListQuery(organizationId, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, PaymentStatus.Refunded, 1, cursor), default);
            found.AddRange(page.Items);
            cursor = page.Next;
            requests++;
        }
        while (cursor is not null);

        Assert.Equal(refunded.TransactionId, Assert.Single(found).TransactionId);
        Assert.True(requests >= 4, $"{requests} requests: each may read at most 50 of the 201 items"); // 1 before the bound
    }

    [Fact]
    public async Task Two_replicas_raising_the_index_shard_count_at_once_cannot_lower_what_the_table_records()
    {
        var settings = new DynamoDbOptions { TablePrefix = DynaliteServer.NewTablePrefix("shards"), WriteShards = 4 };
        await new DynamoDbTableInitializer(fixture.Client, Options.Create(settings), NullLogger<DynamoDbTableInitializer>.Instance).EnsureTablesAsync(default);
        await StoreWith(settings).Shards.SyncAsync(default);

        // B raises to 16; A, which read 4 before B's raise, records its raise to 8 after it (the order that lost B's raise
        // when the count was one tag's value).
        await StoreWith(new DynamoDbOptions { TablePrefix = settings.TablePrefix, WriteShards = 16 }).Shards.SyncAsync(default);
        var arn = (await fixture.Client.DescribeTableAsync(settings.TransactionsTableName)).Table.TableArn;
        try
        {
            await fixture.Client.TagResourceAsync(new TagResourceRequest { ResourceArn = arn, Tags = [IndexShards.Tag(8)] });
        }
        catch (IOException)
        {
            // dynalite's TagResource answer fails the SDK's checksum; the tag is written.
        }

        var late = StoreWith(new DynamoDbOptions { TablePrefix = settings.TablePrefix, WriteShards = 4 }).Shards;
        await late.SyncAsync(default);
        Assert.Equal(16, late.ForReads);
    }

    private (DynamoDbPaymentTransactionStore Store, IndexShards Shards) StoreWith(DynamoDbOptions settings)
    {
        var options = Options.Create(settings);
        var shards = new IndexShards(fixture.Client, options, NullLogger<IndexShards>.Instance);
        return (new DynamoDbPaymentTransactionStore(fixture.Client, new DynamoDbCaller(null, options), options, shards), shards);
    }

    [Fact]
    public async Task A_crash_after_the_idempotency_record_is_completed_by_the_next_request_with_the_key()
    {
        var payment = NewPayment(Guid.CreateVersion7(), DateTimeOffset.UtcNow);
        var record = RecordFor(payment, "crashed");
        await WriteRecordOnlyAsync(record, "Create", payment); // as if the process died before writing the payment

        Assert.Null(await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default));
        var found = await Store.FindIdempotencyRecordAsync(payment.OrganizationId, "crashed", default);
        Assert.Equal(record, found);
        Assert.Equal(payment, await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default));

        // And a retry through CreateAsync with a fresh payment still yields the first one only.
        var retry = NewPayment(payment.OrganizationId, DateTimeOffset.UtcNow);
        Assert.Equal(payment.TransactionId, (await Store.CreateAsync(retry, RecordFor(retry, "crashed"), default)).ResourceId);
        Assert.Null(await Store.GetAsync(payment.OrganizationId, retry.TransactionId, default));
    }

    [Fact]
    public async Task A_create_whose_client_goes_away_once_its_key_is_claimed_still_writes_the_payment()
    {
        using var clientGone = new CancellationTokenSource();
        // The key is claimed (step one answered); as the payment's put (step two) starts, the client goes away.
        using var handler = new BetweenStepsHandler(
            (operation, body) => operation == "PutItem" && body.Contains(fixture.Options.TransactionsTableName, StringComparison.Ordinal), clientGone.Cancel);
        using var client = ProLifeProsper.Testing.Faults.HandlerHttpClientFactory.DynamoDbClient((await DynaliteServer.GetAsync()).ServiceUrl, handler);
        var options = Options.Create(fixture.Options);
        var store = new DynamoDbPaymentTransactionStore(client, new DynamoDbCaller(fixture.Metrics, options), options);
        var payment = NewPayment(Guid.CreateVersion7(), DateTimeOffset.UtcNow);

        await store.CreateAsync(payment, RecordFor(payment, "client-gone"), clientGone.Token);

        Assert.True(clientGone.IsCancellationRequested);
        Assert.Equal(payment, await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default)); // the donor was charged: GET must find it
    }

    [Fact]
    public async Task A_batched_copy_held_up_past_its_time_to_send_sends_nothing()
    {
        // The copy's closed hour is marked first; that step stalls (a paused process) past the copy's time to send.
        using var handler = new BetweenStepsHandler(
            (operation, body) => operation == "UpdateItem" && body.Contains(fixture.Options.AggregatesTableName, StringComparison.Ordinal), () => Thread.Sleep(600));
        using var client = ProLifeProsper.Testing.Faults.HandlerHttpClientFactory.DynamoDbClient((await DynaliteServer.GetAsync()).ServiceUrl, handler);
        var options = Options.Create(fixture.Options);
        var store = new DynamoDbPaymentTransactionStore(client, new DynamoDbCaller(null, options), options);
        var payment = NewPayment(Guid.CreateVersion7(), DateTimeOffset.UtcNow.AddHours(-2));
        var items = await store.CopyItemsAsync([payment], [RecordFor(payment, "late-copy")], default);
        var sendBy = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency / 4;

        await Assert.ThrowsAsync<TimeoutException>(() => store.PutCopiesAsync(items, sendBy, default));

        Assert.Null(await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default));
        Assert.Null(await Store.FindIdempotencyRecordAsync(payment.OrganizationId, "late-copy", default));
    }

    [Fact]
    public async Task A_crash_after_a_refund_record_is_completed_exactly_once()
    {
        var payment = NewPayment(Guid.CreateVersion7(), DateTimeOffset.UtcNow, amount: 1_000);
        await Store.CreateAsync(payment, RecordFor(payment, "pay"), default);
        var refunded = payment.Refund(300, DateTimeOffset.UtcNow);
        var record = new IdempotencyRecord(payment.OrganizationId, "refund-crashed", "fp", Guid.CreateVersion7(), "{}", DateTimeOffset.UtcNow);
        await WriteRecordOnlyAsync(record, "Update", refunded);

        Assert.Equal(record, await Store.FindIdempotencyRecordAsync(payment.OrganizationId, "refund-crashed", default));
        Assert.Equal(refunded, await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default));
        // Asking again does not apply it twice.
        await Store.FindIdempotencyRecordAsync(payment.OrganizationId, "refund-crashed", default);
        Assert.Equal(300, (await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default))!.RefundedAmountMinor);
    }

    [Fact]
    public async Task A_refund_record_that_can_no_longer_apply_is_withdrawn_and_frees_its_key()
    {
        var payment = NewPayment(Guid.CreateVersion7(), DateTimeOffset.UtcNow, amount: 1_000);
        await Store.CreateAsync(payment, RecordFor(payment, "pay"), default);
        var stale = payment.Refund(300, DateTimeOffset.UtcNow);
        await Store.UpdateAsync(payment.Refund(500, DateTimeOffset.UtcNow), null, default); // someone else moved the version on
        await WriteRecordOnlyAsync(new IdempotencyRecord(payment.OrganizationId, "void", "fp", Guid.CreateVersion7(), "{}", DateTimeOffset.UtcNow), "Update", stale);

        Assert.Null(await Store.FindIdempotencyRecordAsync(payment.OrganizationId, "void", default));
        Assert.Equal(500, (await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default))!.RefundedAmountMinor);
    }

    [Fact]
    public async Task Settled_payments_leave_the_sparse_pending_index()
    {
        var payment = NewPayment(Guid.CreateVersion7(), DateTimeOffset.UtcNow.AddYears(-40), status: PaymentStatus.Pending);
        await Store.CreateAsync(payment, RecordFor(payment, "p"), default);
        Assert.Contains(await Store.GetPendingAsync(DateTimeOffset.UtcNow.AddYears(-39), null, 100, default), p => p.TransactionId == payment.TransactionId);

        await Store.UpdateAsync(payment.Settle(DateTimeOffset.UtcNow), null, default);
        var item = (await fixture.Client.GetItemAsync(fixture.Options.TransactionsTableName, new()
        {
            [PaymentItemKeys.Partition] = new(PaymentItemKeys.PartitionOf(payment.OrganizationId, shard: 0)),
            [PaymentItemKeys.SortKey] = new(PaymentItemKeys.SortKeyOf(payment.TransactionId)),
        })).Item;
        Assert.False(item.ContainsKey(PaymentItemKeys.StatusShard));
        Assert.DoesNotContain(await Store.GetPendingAsync(DateTimeOffset.UtcNow.AddYears(-39), null, 100, default), p => p.TransactionId == payment.TransactionId);
    }

    [Fact]
    public async Task Store_calls_are_counted_with_their_consumed_capacity()
    {
        var before = fixture.Metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName);
        var payment = NewPayment(Guid.CreateVersion7(), DateTimeOffset.UtcNow);
        await Store.CreateAsync(payment, RecordFor(payment, "m"), default);
        await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default);
        var after = fixture.Metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName);
        Assert.True(after.ConsumedWriteCapacity >= before.ConsumedWriteCapacity + 2, $"{before.ConsumedWriteCapacity} -> {after.ConsumedWriteCapacity}");
        Assert.True(after.ConsumedReadCapacity > before.ConsumedReadCapacity);
    }

    [Fact]
    public async Task Concurrent_campaign_reads_of_one_organization_share_store_reads()
    {
        var (store, queries, org, campaign) = await CampaignWithOnePaymentReadOnceAsync();
        var before = queries.Count; // the first read kept the month's closed hours: later ones are cheaper, and are what is counted
        Assert.Equal(new CampaignTotals(1_000, 1), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        var perRead = queries.Count - before;

        queries.Delay = TimeSpan.FromMilliseconds(50); // so that the views overlap
        before = queries.Count;
        var views = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => store.GetCampaignTotalsAsync(org, [campaign], default)));
        var shared = queries.Count - before;

        Assert.All(views, view => Assert.Equal(new CampaignTotals(1_000, 1), view[campaign]));
        // 30 views, at most two reads' worth of queries (the one running when the others asked, and the one they share): unshared, 30.
        Assert.True(shared <= 2 * perRead, $"{shared} queries for 30 views; one read makes {perRead}");
    }

    [Fact]
    public async Task A_campaign_read_asked_for_after_a_payment_was_answered_counts_it_even_while_an_earlier_read_is_under_way()
    {
        var (store, queries, org, campaign) = await CampaignWithOnePaymentReadOnceAsync(); // the next read's live part is its last query

        // A view whose read of the open window has been answered by dynalite, but not yet handed back: it cannot count what comes next.
        queries.HoldOpenWindow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var early = store.GetCampaignTotalsAsync(org, [campaign], default);
        await queries.OpenWindowAnswered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var second = NewPayment(org, DateTimeOffset.UtcNow, amount: 2_000, campaign: campaign);
        await store.CreateAsync(second, RecordFor(second, "second"), default);
        var late = store.GetCampaignTotalsAsync(org, [campaign], default); // asked after the payment was answered
        queries.HoldOpenWindow.SetResult();

        Assert.Equal(new CampaignTotals(1_000, 1), (await early)[campaign]);
        Assert.Equal(new CampaignTotals(3_000, 2), (await late)[campaign]); // joining the early read would have answered 1,000
    }

    /// <summary>A store whose queries are counted, and an organization with one 1,000 payment to a campaign, read once (its closed hours kept).</summary>
    private async Task<(DynamoDbPaymentTransactionStore Store, CountedQueries Queries, Guid Organization, Guid Campaign)> CampaignWithOnePaymentReadOnceAsync()
    {
        var (store, queries) = await CountingStoreAsync();
        var org = Guid.CreateVersion7();
        var campaign = Guid.CreateVersion7();
        var first = NewPayment(org, DateTimeOffset.UtcNow, amount: 1_000, campaign: campaign);
        await store.CreateAsync(first, RecordFor(first, "first"), default);
        Assert.Equal(new CampaignTotals(1_000, 1), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        return (store, queries, org, campaign);
    }

    private async Task<(DynamoDbPaymentTransactionStore Store, CountedQueries Queries)> CountingStoreAsync()
    {
        var queries = new CountedQueries(fixture.Options.TransactionsTableName) { InnerHandler = new SocketsHttpHandler() };
        var server = await DynaliteServer.GetAsync();
        var client = new AmazonDynamoDBClient(new Amazon.Runtime.BasicAWSCredentials("local", "local"), new AmazonDynamoDBConfig
        {
            ServiceURL = server.ServiceUrl, AuthenticationRegion = "us-east-1", HttpClientFactory = new ProLifeProsper.Testing.Faults.HandlerHttpClientFactory(queries),
        });
        var options = Options.Create(fixture.Options);
        return (new DynamoDbPaymentTransactionStore(client, new DynamoDbCaller(null, options), options), queries);
    }

    /// <summary>Counts queries; may slow them, or hold back the answer to the first read of an open window (a query of payments up to "now").</summary>
    private sealed class CountedQueries(string transactionsTable) : DelegatingHandler
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public TimeSpan Delay { get; set; }

        public TaskCompletionSource? HoldOpenWindow { get; set; }

        public TaskCompletionSource OpenWindowAnswered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (!request.Headers.TryGetValues("X-Amz-Target", out var target) || !target.Single().EndsWith(".Query", StringComparison.Ordinal))
                return await base.SendAsync(request, cancellationToken);
            Interlocked.Increment(ref _count);
            if (Delay > TimeSpan.Zero) await Task.Delay(Delay, cancellationToken);
            var body = await request.Content!.ReadAsStringAsync(cancellationToken);
            var response = await base.SendAsync(request, cancellationToken);
            if (HoldOpenWindow is { } hold && body.Contains(transactionsTable, StringComparison.Ordinal) && body.Contains("\"~\"", StringComparison.Ordinal)
                && OpenWindowAnswered.TrySetResult())
                await hold.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            return response;
        }
    }

    private Task WriteRecordOnlyAsync(IdempotencyRecord record, string kind, PaymentTransaction applies) =>
        CutOffDynamoWrite.WriteRecordOnlyAsync(fixture.Client, fixture.Options.IdempotencyTableName, record, kind, applies);
}
