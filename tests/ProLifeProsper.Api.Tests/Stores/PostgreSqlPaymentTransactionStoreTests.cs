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

    [Fact]
    public async Task A_key_a_stuck_transaction_holds_fails_alone_and_holds_none_of_the_creates_batched_with_it()
    {
        var org = Guid.CreateVersion7();
        var now = DateTimeOffset.UtcNow;
        var stuck = NewPayment(org, now);
        // A refund's record insert left uncommitted by an instance that froze mid-transaction: the server keeps its lock.
        await using var frozen = await fixture.DataSource.OpenConnectionAsync();
        await using var transaction = await frozen.BeginTransactionAsync();
        await using (var claim = new NpgsqlCommand(
            "INSERT INTO idempotency_records (organization_id, key, fingerprint, resource_id, response_json, created_at) VALUES ($1, $2, 'fp', $3, '{}', now())",
            frozen, transaction))
        {
            claim.Parameters.Add(new() { Value = org });
            claim.Parameters.Add(new() { Value = stuck.IdempotencyKey });
            claim.Parameters.Add(new() { Value = Guid.CreateVersion7() });
            await claim.ExecuteNonQueryAsync();
        }

        var good = Enumerable.Range(1, 40).Select(i => NewPayment(org, now.AddMilliseconds(i))).ToList();
        var blocked = Store.CreateAsync(stuck, RecordFor(stuck, stuck.IdempotencyKey), default);
        var creates = good.Select(p => Store.CreateAsync(p, RecordFor(p, p.IdempotencyKey), default)).ToList();

        // While the stuck transaction still holds its key: the others are stored well before the 30 s command time-out that
        // used to fail them all with it, and the stuck key's create fails on the lock time-out (a 503: retry).
        await Task.WhenAll(creates).WaitAsync(TimeSpan.FromSeconds(20));
        var refused = await Assert.ThrowsAsync<PostgresException>(() => blocked.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(PostgresErrorCodes.LockNotAvailable, refused.SqlState);
        foreach (var payment in good) Assert.Equal(payment, await Store.GetAsync(org, payment.TransactionId, default));
        Assert.Null(await Store.GetAsync(org, stuck.TransactionId, default));

        // Once the stuck transaction is gone, the key is free and its retry goes through.
        await transaction.RollbackAsync();
        Assert.Equal(stuck.TransactionId, (await Store.CreateAsync(stuck, RecordFor(stuck, stuck.IdempotencyKey), default)).ResourceId);
    }

    /// <summary>The routing version in this database (set up as an API's start-up would).</summary>
    private async Task<long> RoutingVersionAsync()
    {
        await using (var seed = fixture.DataSource.CreateCommand(
            "INSERT INTO routing_state (id, phase, version, changed_at, changed_by) VALUES (1, 'dual-write', 1, now(), 'test') ON CONFLICT (id) DO NOTHING"))
            await seed.ExecuteNonQueryAsync();
        await using var read = fixture.DataSource.CreateCommand("SELECT version FROM routing_state WHERE id = 1");
        return (long)(await read.ExecuteScalarAsync())!;
    }

    [Theory]
    [InlineData("payment_outbox")]
    [InlineData("routing_state")]
    public async Task A_schema_change_holding_a_table_is_waited_for_not_answered_as_a_held_key(string table)
    {
        var org = Guid.CreateVersion7();
        var payments = Enumerable.Range(0, 20).Select(i => NewPayment(org, DateTimeOffset.UtcNow.AddMilliseconds(i))).ToList();
        var guard = new PostgreSqlWriteGuard(await RoutingVersionAsync(), null); // as every create the API makes: it reads routing_state
        var store = new PostgreSqlPaymentTransactionStore(fixture.DataSource, _batcher);
        // A migration's ALTER TABLE holds the table for 3 s: longer than any key's lock time-out.
        await using var schema = await fixture.DataSource.OpenConnectionAsync();
        await using var transaction = await schema.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand($"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", schema, transaction))
            await lockTable.ExecuteNonQueryAsync();
        var creates = payments.Select(p => store.CreateAsync(p, RecordFor(p, p.IdempotencyKey), guard, default)).ToList();
        await Task.Delay(TimeSpan.FromSeconds(3));
        await transaction.CommitAsync();

        // They waited for the table, as they did before keys had a lock time-out, and were stored.
        foreach (var create in creates) await create;
        foreach (var payment in payments) Assert.Equal(payment, await Store.GetAsync(org, payment.TransactionId, default));
    }

    [Fact]
    public async Task The_record_made_of_a_payment_that_holds_its_key_is_kept_under_the_routing_guard_and_mirrored()
    {
        var version = await RoutingVersionAsync();
        var org = Guid.CreateVersion7();
        var plain = new PostgreSqlPaymentTransactionStore(fixture.DataSource, _batcher);
        var stale = NewPayment(org, DateTimeOffset.UtcNow.AddMinutes(-5));
        var mirrored = NewPayment(org, DateTimeOffset.UtcNow.AddMinutes(-4));
        Assert.True(await plain.CopyAsync(stale, default));
        Assert.True(await plain.CopyAsync(mirrored, default));

        // Under a routing version that has moved on, nothing is kept: the write is decided again under the new one.
        var retry = NewPayment(org, DateTimeOffset.UtcNow) with { IdempotencyKey = stale.IdempotencyKey };
        await Assert.ThrowsAsync<StaleRoutingException>(() =>
            plain.CreateAsync(retry, RecordFor(retry, retry.IdempotencyKey), new PostgreSqlWriteGuard(version - 1, "dynamodb"), default));
        Assert.Null(await plain.FindIdempotencyRecordAsync(org, stale.IdempotencyKey, default));

        // Under the current one, while mirroring, the record is kept with the outbox row that takes the key to DynamoDB too.
        var again = NewPayment(org, DateTimeOffset.UtcNow) with { IdempotencyKey = mirrored.IdempotencyKey };
        var (kept, outboxId) = await plain.CreateAsync(again, RecordFor(again, again.IdempotencyKey), new PostgreSqlWriteGuard(version, "dynamodb"), default);
        Assert.Equal(mirrored.TransactionId, kept.ResourceId);
        Assert.NotNull(outboxId);
        await using var box = fixture.DataSource.CreateCommand("SELECT target, transaction_id, idempotency_key, expected_version FROM payment_outbox WHERE id = $1");
        box.Parameters.Add(new() { Value = outboxId!.Value });
        await using var row = await box.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.Equal(("dynamodb", mirrored.TransactionId, mirrored.IdempotencyKey, mirrored.Version),
            (row.GetString(0), row.GetGuid(1), row.GetString(2), row.GetInt32(3)));
    }

    [Fact]
    public async Task A_payment_that_holds_its_key_without_a_record_answers_the_keys_next_create_as_its_retry()
    {
        // Copied home from a DynamoDB that had lost its records: the payment, and no record under its key.
        var org = Guid.CreateVersion7();
        var holder = NewPayment(org, DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.True(await new PostgreSqlPaymentTransactionStore(fixture.DataSource).CopyAsync(holder, default));
        Assert.Null(await Store.FindIdempotencyRecordAsync(org, holder.IdempotencyKey, default));

        var retry = NewPayment(org, DateTimeOffset.UtcNow) with { IdempotencyKey = holder.IdempotencyKey };
        var others = Enumerable.Range(0, 20).Select(i => NewPayment(org, DateTimeOffset.UtcNow.AddMilliseconds(i))).ToList();
        var creates = others.Select(p => Store.CreateAsync(p, RecordFor(p, p.IdempotencyKey), default)).ToList();
        var answer = await Store.CreateAsync(retry, RecordFor(retry, retry.IdempotencyKey), default);

        // Answered with the payment that holds the key (the service replays it, or refuses another body by the fingerprint made
        // of it), not a unique-index failure; no second payment, and the creates batched with it are stored.
        Assert.Equal(holder.TransactionId, answer.ResourceId);
        Assert.Equal(new PaymentRequest(holder.CampaignId, holder.DonorId, holder.AmountMinor, holder.Currency, holder.PaymentMethodType,
            holder.PaymentMethodToken).Fingerprint(), answer.Fingerprint);
        Assert.Equal(holder, PaymentSnapshotJson.DeserializePayment(answer.ResponseJson));
        Assert.Null(await Store.GetAsync(org, retry.TransactionId, default));
        // The record made of it is kept: the key is no longer free (for a refund to take, say), and the next retry finds it.
        Assert.Equal(answer, await Store.FindIdempotencyRecordAsync(org, holder.IdempotencyKey, default));
        foreach (var create in creates) await create;
        foreach (var payment in others) Assert.Equal(payment, await Store.GetAsync(org, payment.TransactionId, default));
    }
}
