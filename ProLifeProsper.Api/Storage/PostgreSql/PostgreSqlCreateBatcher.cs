using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using ProLifeProsper.Api.PaymentMigration;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Storage.PostgreSql;

/// <summary>
/// Group commit for payment creation: creates that arrive while a batch is being written wait for the next one,
/// and each batch is one multi-row statement (idempotency records, payments and outbox rows together) in one
/// transaction, the way TigerBeetle batches transfers. Every semantic of the single-row path holds: a key already
/// used — in the table or earlier in the same batch — inserts nothing and the caller replays; the routing version is
/// checked under the routing lock; nothing is acknowledged before its batch commits. Batches form naturally (no
/// waiting for stragglers), so a lone request pays no extra latency. Keys are inserted in key order, so two batches
/// racing for the same keys wait for each other instead of deadlocking.
/// </summary>
public sealed class PostgreSqlCreateBatcher : IAsyncDisposable
{
    public const int MaxBatch = 128;
    private const int Writers = 2;

    private readonly NpgsqlDataSource _dataSource;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Task[] _writers;

    private sealed record Pending(PaymentTransaction Payment, IdempotencyRecord Record, PostgreSqlWriteGuard? Guard, TaskCompletionSource<Result> Done);

    /// <summary>What became of one create: whether the routing version was current, whether it was inserted, its outbox row.</summary>
    public readonly record struct Result(bool Current, bool Inserted, long? OutboxId);

    public PostgreSqlCreateBatcher(NpgsqlDataSource dataSource)
    {
        _dataSource = dataSource;
        _writers = Enumerable.Range(0, Writers).Select(_ => Task.Run(WriteLoopAsync)).ToArray();
    }

    public Task<Result> CreateAsync(PaymentTransaction payment, IdempotencyRecord record, PostgreSqlWriteGuard? guard, CancellationToken cancellationToken)
    {
        var pending = new Pending(payment, record, guard, new TaskCompletionSource<Result>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(PostgreSqlCreateBatcher));
        // The caller may stop waiting, but the write itself is never abandoned half-way.
        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next)) batch.Add(next);
            foreach (var group in batch.GroupBy(p => p.Guard))
            {
                var items = group.ToList();
                try
                {
                    var results = await WriteAsync(items, group.Key);
                    for (var i = 0; i < items.Count; i++) items[i].Done.TrySetResult(results[i]);
                }
                catch (Exception e)
                {
                    foreach (var item in items) item.Done.TrySetException(e);
                }
            }
        }
    }

    private async Task<Result[]> WriteAsync(List<Pending> items, PostgreSqlWriteGuard? guard)
    {
        await using var batch = _dataSource.CreateBatch();
        if (guard is not null) batch.BatchCommands.Add(new NpgsqlBatchCommand(RoutingLock.AcquireShared));
        var command = new NpgsqlBatchCommand(
            (guard is null ? "WITH guard AS (SELECT 1) " : "WITH guard AS (SELECT 1 FROM routing_state WHERE id = 1 AND version = $19) ") +
            ", input AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], " +
            "$10::text[], $11::text[], $12::bigint[], $13::timestamptz[], $14::timestamptz[], $15::int[], $16::text[], $17::text[], $18::text[]) WITH ORDINALITY " +
            "AS i(transaction_id, organization_id, campaign_id, donor_id, amount_minor, currency, status, payment_method_type, payment_method_token, " +
            "idempotency_key, failure_code, refunded_amount_minor, created_at, updated_at, version, record_key, fingerprint, response_json, ord)) " +
            ", idem AS (INSERT INTO idempotency_records (organization_id, key, fingerprint, resource_id, response_json, created_at) " +
            "SELECT organization_id, record_key, fingerprint, transaction_id, response_json, created_at FROM input WHERE EXISTS (SELECT 1 FROM guard) ORDER BY organization_id, record_key, ord " +
            "ON CONFLICT DO NOTHING RETURNING resource_id) " +
            ", pay AS (INSERT INTO payment_transactions (transaction_id, organization_id, campaign_id, donor_id, amount_minor, currency, status, payment_method_type, " +
            "payment_method_token, idempotency_key, failure_code, refunded_amount_minor, created_at, updated_at, version) " +
            "SELECT transaction_id, organization_id, campaign_id, donor_id, amount_minor, currency, status, payment_method_type, payment_method_token, idempotency_key, " +
            "failure_code, refunded_amount_minor, created_at, updated_at, version FROM input WHERE transaction_id IN (SELECT resource_id FROM idem) RETURNING transaction_id) " +
            ", box AS (INSERT INTO payment_outbox (target, organization_id, transaction_id, idempotency_key, expected_version, enqueued_at, attempts, next_attempt_at) " +
            "SELECT $20, organization_id, transaction_id, record_key, version, now(), 0, now() FROM input " +
            "WHERE $20 IS NOT NULL AND transaction_id IN (SELECT transaction_id FROM pay) RETURNING transaction_id, id) " +
            "SELECT EXISTS (SELECT 1 FROM guard), p.transaction_id, b.id FROM pay p LEFT JOIN box b USING (transaction_id) " +
            "UNION ALL SELECT EXISTS (SELECT 1 FROM guard), NULL, NULL");

        var payments = items.Select(i => i.Payment).ToList();
        Array(command, payments.Select(p => p.TransactionId), NpgsqlDbType.Uuid);
        Array(command, payments.Select(p => p.OrganizationId), NpgsqlDbType.Uuid);
        Array(command, payments.Select(p => p.CampaignId), NpgsqlDbType.Uuid);
        Array(command, payments.Select(p => p.DonorId), NpgsqlDbType.Uuid);
        Array(command, payments.Select(p => p.AmountMinor), NpgsqlDbType.Bigint);
        Array(command, payments.Select(p => p.Currency), NpgsqlDbType.Text);
        Array(command, payments.Select(p => p.Status.ToWire()), NpgsqlDbType.Text);
        Array(command, payments.Select(p => p.PaymentMethodType.ToWire()), NpgsqlDbType.Text);
        Array(command, payments.Select(p => p.PaymentMethodToken), NpgsqlDbType.Text);
        Array(command, payments.Select(p => p.IdempotencyKey), NpgsqlDbType.Text);
        Array(command, payments.Select(p => p.FailureCode), NpgsqlDbType.Text);
        Array(command, payments.Select(p => p.RefundedAmountMinor), NpgsqlDbType.Bigint);
        Array(command, payments.Select(p => p.CreatedAt), NpgsqlDbType.TimestampTz);
        Array(command, payments.Select(p => p.UpdatedAt), NpgsqlDbType.TimestampTz);
        Array(command, payments.Select(p => p.Version), NpgsqlDbType.Integer);
        Array(command, items.Select(i => i.Record.Key), NpgsqlDbType.Text);
        Array(command, items.Select(i => i.Record.Fingerprint), NpgsqlDbType.Text);
        Array(command, items.Select(i => i.Record.ResponseJson), NpgsqlDbType.Text);
        command.Parameters.Add(new() { Value = guard?.RoutingVersion ?? 0L });
        command.Parameters.Add(new() { Value = (object?)guard?.MirrorTo ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        batch.BatchCommands.Add(command);

        var current = false;
        var inserted = new Dictionary<Guid, long?>();
        await using (var reader = await batch.ExecuteReaderAsync())
        {
            if (guard is not null) await reader.NextResultAsync();
            while (await reader.ReadAsync())
            {
                current = reader.GetBoolean(0);
                if (!reader.IsDBNull(1)) inserted[reader.GetGuid(1)] = reader.IsDBNull(2) ? null : reader.GetInt64(2);
            }
        }
        return items.Select(i => inserted.TryGetValue(i.Payment.TransactionId, out var outbox)
            ? new Result(current, true, outbox)
            : new Result(current, false, null)).ToArray();
    }

    private static void Array<T>(NpgsqlBatchCommand command, IEnumerable<T> values, NpgsqlDbType type) =>
        command.Parameters.Add(new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | type });

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers);
    }
}
