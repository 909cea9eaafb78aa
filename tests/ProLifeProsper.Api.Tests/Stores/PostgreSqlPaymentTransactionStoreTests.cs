using Npgsql;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>A migrated database of its own on the real test PostgreSQL server.</summary>
public sealed class PostgreSqlStoreFixture : IAsyncLifetime
{
    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        DataSource = NpgsqlDataSource.Create(server.ConnectionStringFor(PostgresServer.NewDatabaseName("store")));
        await ProLifeProsperDbContext.MigrateAsync(DataSource);
    }

    public async Task DisposeAsync() => await DataSource.DisposeAsync();
}

public sealed class PostgreSqlPaymentTransactionStoreTests(PostgreSqlStoreFixture fixture)
    : PaymentTransactionStoreContract, IClassFixture<PostgreSqlStoreFixture>
{
    protected override IPaymentTransactionStore Store { get; } = new PostgreSqlPaymentTransactionStore(fixture.DataSource);

    [Fact]
    public async Task A_list_filtered_by_a_rare_status_reads_a_bounded_number_of_rows_per_request()
    {
        var store = new PostgreSqlPaymentTransactionStore(fixture.DataSource, maxRowsReadPerFilteredPage: 50);
        var organizationId = Guid.CreateVersion7();
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var refunded = new List<PaymentTransaction>();
        for (var i = 0; i <= 200; i++)
        {
            // Refunded: the oldest, the 120th and 121st (two in one page of 1), and the 151st: the last row the first read reaches.
            var payment = NewPayment(organizationId, start.AddSeconds(i), status: i is 0 or 120 or 121 or 151 ? PaymentStatus.Refunded : PaymentStatus.Succeeded);
            await store.CreateAsync(payment, RecordFor(payment, $"p{i}"), default);
            if (payment.Status == PaymentStatus.Refunded) refunded.Insert(0, payment);
        }

        var found = new List<PaymentTransaction>();
        var requests = 0;
        ProLifeProsper.Domain.Common.PageCursor? cursor = null;
        do
        {
            var page = await store.ListAsync(new PaymentListQuery(organizationId, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, PaymentStatus.Refunded, 1, cursor), default);
            Assert.True(page.Items.Count <= 1);
            found.AddRange(page.Items);
            cursor = page.Next;
            requests++;
        }
        while (cursor is not null);

        // Every refunded payment once, newest first; no request read more than 50 of the 201 rows.
        Assert.Equal(refunded.Select(p => p.TransactionId), found.Select(p => p.TransactionId));
        Assert.True(requests >= 5, $"{requests} requests: each may read at most 50 of the 201 rows");
        // Unfiltered lists are not cut short.
        Assert.Equal(101, (await store.ListAsync(new PaymentListQuery(organizationId, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, null, 101, null), default)).Items.Count);
    }
}

/// <summary>The same contract with group commit: creates batched into multi-row statements.</summary>
public sealed class PostgreSqlGroupCommitPaymentTransactionStoreTests(PostgreSqlStoreFixture fixture)
    : PaymentTransactionStoreContract, IClassFixture<PostgreSqlStoreFixture>, IAsyncLifetime
{
    private readonly PostgreSqlCreateBatcher _batcher = new(fixture.DataSource);

    protected override IPaymentTransactionStore Store => new PostgreSqlPaymentTransactionStore(fixture.DataSource, _batcher);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _batcher.DisposeAsync();

    [Fact]
    public async Task A_row_the_server_refuses_fails_alone_not_the_creates_batched_with_it()
    {
        var org = Guid.CreateVersion7();
        var now = DateTimeOffset.UtcNow;
        var good = Enumerable.Range(0, 60).Select(i => NewPayment(org, now.AddMilliseconds(i))).ToList();
        var bad = NewPayment(org, now.AddMilliseconds(100));
        // A fingerprint longer than its column (64): only the database can refuse it.
        var creates = good.Select(p => Store.CreateAsync(p, RecordFor(p, p.IdempotencyKey!), default))
            .Append(Store.CreateAsync(bad, RecordFor(bad, bad.IdempotencyKey!, new string('f', 65)), default)).ToList();

        await Assert.ThrowsAsync<PostgresException>(() => creates[^1]);
        foreach (var create in creates.SkipLast(1)) await create;
        foreach (var payment in good) Assert.Equal(payment, await Store.GetAsync(org, payment.TransactionId, default));
        Assert.Null(await Store.GetAsync(org, bad.TransactionId, default));
    }
}
