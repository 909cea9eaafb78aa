using System.Diagnostics.Metrics;
using Amazon.DynamoDBv2;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.Instrumentation;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.LocalInfrastructure;
using ProLifeProsper.Testing.Faults;
using Xunit.Abstractions;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>
/// The DynamoDB store on tables of its own, reached through a hostile DynamoDB: throttles, failures before
/// sending, writes applied but answered 500 or reset, tiny pages. Retries are generous so that the outcome is
/// deterministic: what must hold is that no fault loses, doubles or misreports a payment.
/// </summary>
public sealed class HostileDynamoDbStoreFixture : IAsyncLifetime
{
    public const int Seed = 20260314;

    public HostileDynamoDb Hostile { get; } = new(HostileDynamoDbProfile.Hostile(Seed) with
    {
        Throttle = 0.12,
        FailBeforeSend = 0.08,
        AppliedThenServerError = 0.1,
        AppliedThenReset = 0.1,
        TinyPage = 0.5,
        // Off: Pending_payments_come_oldest_first_across_organizations and Hourly_totals_count_captured_payments_per_hour_and_currency
        // read an index straight after writing and fail with any index lag (they rely on dynalite's synchronous indexes).
        MaxIndexLag = TimeSpan.Zero,
    });

    public IAmazonDynamoDB Client { get; private set; } = null!;
    public DynamoDbOptions Options { get; } = new() { TablePrefix = DynaliteServer.NewTablePrefix("hostile"), WriteShards = 4, MaxRetries = 25 };
    public StoreMetrics Metrics { get; private set; } = null!;
    public DynamoDbCaller Caller { get; private set; } = null!;
    public DynamoDbPaymentTransactionStore Store { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Client = (await DynaliteServer.GetAsync()).CreateClient(Hostile);
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        Metrics = new StoreMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>(), TimeProvider.System);
        Caller = new DynamoDbCaller(Metrics, options);
        await new DynamoDbTableInitializer(Client, options, NullLogger<DynamoDbTableInitializer>.Instance, Caller).EnsureTablesAsync(default);
        Store = new DynamoDbPaymentTransactionStore(Client, Caller, options);
    }

    public Task DisposeAsync()
    {
        Client.Dispose();
        Hostile.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class HostileDynamoDbPaymentTransactionStoreTests : PaymentTransactionStoreContract, IClassFixture<HostileDynamoDbStoreFixture>, IDisposable
{
    private readonly HostileDynamoDbStoreFixture _fixture;
    private readonly ITestOutputHelper _output;
    private readonly long _faultsBefore;

    public HostileDynamoDbPaymentTransactionStoreTests(HostileDynamoDbStoreFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        _faultsBefore = TotalFaults();
    }

    protected override IPaymentTransactionStore Store => _fixture.Store;

    [Fact]
    public async Task The_profile_injects_every_kind_of_fault_and_the_store_still_counts_right()
    {
        var org = Guid.CreateVersion7();
        var before = Enum.GetValues<HostileFault>().ToDictionary(k => k, _fixture.Hostile.Ledger.FaultsOf);
        var payments = new List<PaymentTransaction>();
        for (var i = 0; i < 40; i++)
        {
            var payment = NewPayment(org, DateTimeOffset.UtcNow.AddMinutes(-i), amount: 100);
            payments.Add(payment);
            Assert.Equal(payment.TransactionId, (await Store.CreateAsync(payment, RecordFor(payment, $"f{i}"), default)).ResourceId);
        }
        foreach (var (payment, i) in payments.Take(10).Select((p, i) => (p, i)))
        {
            var refund = new IdempotencyRecord(org, $"r{i}", "fp", Guid.CreateVersion7(), "{}", DateTimeOffset.UtcNow);
            Assert.Equal(refund, await Store.UpdateAsync(payment.Refund(40, DateTimeOffset.UtcNow), refund, default));
        }

        // Small pages of the listing: many queries, so tiny pages are met too.
        var listed = new List<PaymentTransaction>();
        PageCursor? cursor = null;
        do
        {
            var page = await Store.ListAsync(new PaymentListQuery(org, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, null, 2, cursor), default);
            listed.AddRange(page.Items);
            cursor = page.Next;
        }
        while (cursor is not null);
        Assert.Equal(payments.Select(p => p.TransactionId), listed.Select(p => p.TransactionId));
        Assert.Equal(10 * 40, listed.Sum(p => p.RefundedAmountMinor));

        var injected = Enum.GetValues<HostileFault>().Where(k => k != HostileFault.StaleIndexRead)
            .ToDictionary(k => k, k => _fixture.Hostile.Ledger.FaultsOf(k) - before[k]);
        _output.WriteLine(string.Join(", ", injected.Select(i => $"{i.Key} {i.Value}")));
        Assert.All(injected, i => Assert.True(i.Value > 0, $"no {i.Key} was injected: the profile proved nothing"));
        Assert.True(_fixture.Metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName).Throttled > 0);
    }

    [Fact]
    public async Task The_ledger_books_capacity_including_failed_conditions()
    {
        var payment = NewPayment(Guid.CreateVersion7(), DateTimeOffset.UtcNow);
        await Store.CreateAsync(payment, RecordFor(payment, "once"), default);
        await Store.CreateAsync(payment, RecordFor(payment, "once"), default); // the key is taken: a failed condition, billed

        var books = _fixture.Hostile.Ledger.Snapshot();
        Assert.True(books["PutItem"].ConditionalCheckFailures > 0);
        Assert.True(books["PutItem"].WriteCapacityUnits >= books["PutItem"].ConditionalCheckFailures);
        Assert.True(books["GetItem"].ReadCapacityUnits > 0);
        Assert.True(_fixture.Hostile.Ledger.ReadCapacityUnits >= books["GetItem"].ReadCapacityUnits);
    }

    [Fact]
    public async Task Keyed_updates_whose_answers_are_lost_apply_exactly_once()
    {
        using var hostile = new HostileDynamoDb(new HostileDynamoDbProfile
        {
            Seed = HostileDynamoDbStoreFixture.Seed, AppliedThenServerError = 0.15, AppliedThenReset = 0.15, LostAnswerOperations = new HashSet<string> { "UpdateItem" },
        });
        var (client, store) = await StoreThroughAsync(hostile);
        using var _ = client;
        var payment = NewPayment(Guid.CreateVersion7(), DateTimeOffset.UtcNow, amount: 10_000);
        await store.CreateAsync(payment, RecordFor(payment, "pay"), default);

        var current = payment;
        for (var i = 0; i < 20; i++)
        {
            var refunded = current.Refund(100, DateTimeOffset.UtcNow);
            var record = new IdempotencyRecord(payment.OrganizationId, $"refund-{i}", "fp", Guid.CreateVersion7(), "{}", DateTimeOffset.UtcNow);
            Assert.Equal(record, await store.UpdateAsync(refunded, record, default));
            current = refunded;
        }

        Assert.Equal(current, await store.GetAsync(payment.OrganizationId, payment.TransactionId, default));
        Assert.Equal(2_000, current.RefundedAmountMinor);
        Assert.True(hostile.Ledger.FaultsOf(HostileFault.AppliedThenServerError) + hostile.Ledger.FaultsOf(HostileFault.AppliedThenReset) > 0);
    }

    [Fact]
    public async Task An_unkeyed_update_whose_answer_was_lost_is_not_a_conflict()
    {
        using var hostile = new HostileDynamoDb(new HostileDynamoDbProfile
        {
            Seed = HostileDynamoDbStoreFixture.Seed, AppliedThenServerError = 0.3, LostAnswerOperations = new HashSet<string> { "UpdateItem" },
        });
        var (client, store) = await StoreThroughAsync(hostile);
        using var _ = client;
        for (var i = 0; i < 20; i++)
        {
            var payment = NewPayment(Guid.CreateVersion7(), DateTimeOffset.UtcNow, status: PaymentStatus.Pending);
            await store.CreateAsync(payment, RecordFor(payment, "p"), default);
            var settled = payment.Settle(DateTimeOffset.UtcNow);
            Assert.Null(await store.UpdateAsync(settled, null, default)); // was: DomainException (conflict) after a lost answer
            Assert.Equal(settled, await store.GetAsync(payment.OrganizationId, payment.TransactionId, default));
        }
    }

    [Fact]
    public async Task Pending_payments_are_all_found_when_pages_are_short()
    {
        using var hostile = new HostileDynamoDb(new HostileDynamoDbProfile { Seed = HostileDynamoDbStoreFixture.Seed, TinyPage = 1 });
        var (client, store) = await StoreThroughAsync(hostile);
        using var _ = client;
        var cutoff = DateTimeOffset.UtcNow.AddYears(-50); // before every other test's payments
        var sameShard = new List<PaymentTransaction>();
        for (var minutes = 1; sameShard.Count < 3; minutes++)
        {
            var payment = NewPayment(Guid.CreateVersion7(), cutoff.AddMinutes(-minutes), status: PaymentStatus.Pending);
            if (PaymentItemKeys.ShardOf(payment.TransactionId, _fixture.Options.WriteShards) == 0) sameShard.Add(payment);
        }
        foreach (var payment in sameShard) await store.CreateAsync(payment, RecordFor(payment, "p"), default);

        var due = await store.GetPendingAsync(cutoff, null, 1000, default);
        Assert.Equal(sameShard.OrderBy(p => p.CreatedAt).Select(p => p.TransactionId), due.Select(p => p.TransactionId));
    }

    private async Task<(IAmazonDynamoDB Client, DynamoDbPaymentTransactionStore Store)> StoreThroughAsync(HostileDynamoDb hostile)
    {
        var client = (await DynaliteServer.GetAsync()).CreateClient(hostile);
        var options = Microsoft.Extensions.Options.Options.Create(_fixture.Options);
        return (client, new DynamoDbPaymentTransactionStore(client, new DynamoDbCaller(_fixture.Metrics, options), options));
    }

    public void Dispose() => _output.WriteLine($"faults injected during this test: {TotalFaults() - _faultsBefore} (seed {HostileDynamoDbStoreFixture.Seed}); " +
        $"books so far: {_fixture.Hostile.Ledger}");

    private long TotalFaults() => Enum.GetValues<HostileFault>().Sum(_fixture.Hostile.Ledger.FaultsOf);
}
