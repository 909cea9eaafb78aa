using Npgsql;
using NpgsqlTypes;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Storage.PostgreSql;

/// <summary>What became of one create: whether the routing version was current, whether it was inserted, its outbox row.</summary>
public readonly record struct CreateResult(bool Current, bool Inserted, long? OutboxId);

/// <summary>
/// The one statement that creates payments in PostgreSQL, for one row or a group-committed batch: idempotency
/// records, payments and (while migrating) their outbox rows, all or nothing. A key already used — in the table or
/// earlier in the same batch — inserts nothing and its caller replays; with a guard, it runs under the shared routing
/// lock and writes nothing if the routing version moved on. Keys are inserted in key order, so two batches racing for
/// the same keys wait for each other instead of deadlocking. With a guard, a key that a DynamoDB write still being copied
/// home holds (after a rollback) inserts nothing either, and no record is found: the caller answers that the key is in flight.
/// </summary>
public static class PostgreSqlCreateStatement
{
    /// <summary>How long a create written on its own waits for a key another transaction holds uncommitted (55P03 after it: 503, retry).</summary>
    public static readonly TimeSpan KeyLockTimeout = TimeSpan.FromSeconds(2);

    // The locks the create takes on its tables (ROW EXCLUSIVE on the three it writes, by deleting nothing from each; ACCESS
    // SHARE on routing_state, which its guard reads), then the key lock time-out ($1, ms): a statement's table locks are taken
    // before it runs, so set_config comes after them and they are waited for without it.
    private const string TakeTableLocksThenSetKeyLockTimeout =
        "WITH r AS (DELETE FROM idempotency_records WHERE false), p AS (DELETE FROM payment_transactions WHERE false), " +
        "o AS (DELETE FROM payment_outbox WHERE false), s AS (SELECT FROM routing_state) SELECT set_config('lock_timeout', $1, true)";

    /// <param name="keyLockTimeout">How long the statement waits for a key another transaction holds (default <see cref="KeyLockTimeout"/>).</param>
    public static async Task<CreateResult[]> ExecuteAsync(NpgsqlDataSource dataSource, IReadOnlyList<(PaymentTransaction Payment, IdempotencyRecord Record)> items,
        PostgreSqlWriteGuard? guard, CancellationToken cancellationToken, TimeSpan? keyLockTimeout = null)
    {
        await using var batch = dataSource.CreateBatch();
        if (guard is not null) batch.BatchCommands.Add(new NpgsqlBatchCommand(RoutingLock.AcquireShared));
        // After the routing lock, which a phase change holds for as long as it needs, and after the tables' own locks, so that a
        // schema change queued for one of them is waited for as before: the lock time-out is only ever spent on a key. A key is
        // waited for only while another transaction holds it uncommitted, normally for milliseconds; one held by a stuck
        // transaction (its instance frozen or cut off mid-refund) fails this statement after the time-out instead of the 30 s
        // command time-out (see PostgreSqlCreateBatcher for how the creates batched with it are then written).
        var settings = new NpgsqlBatchCommand(TakeTableLocksThenSetKeyLockTimeout);
        settings.Parameters.Add(new() { Value = ((long)(keyLockTimeout ?? KeyLockTimeout).TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        batch.BatchCommands.Add(settings);
        var command = new NpgsqlBatchCommand(
            (guard is null ? "WITH guard AS (SELECT 1) " : $"WITH guard AS ({PostgreSqlWriteGuard.RoutingVersionIsCurrent(19)}) ") +
            ", input AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], " +
            "$10::text[], $11::text[], $12::bigint[], $13::timestamptz[], $14::timestamptz[], $15::int[], $16::text[], $17::text[], $18::text[]) WITH ORDINALITY " +
            "AS i(transaction_id, organization_id, campaign_id, donor_id, amount_minor, currency, status, payment_method_type, payment_method_token, " +
            "idempotency_key, failure_code, refunded_amount_minor, created_at, updated_at, version, record_key, fingerprint, response_json, ord)) " +
            ", idem AS (INSERT INTO idempotency_records (organization_id, key, fingerprint, resource_id, response_json, created_at) " +
            "SELECT organization_id, record_key, fingerprint, transaction_id, response_json, created_at FROM input WHERE EXISTS (SELECT 1 FROM guard) " +
            // After a rollback, a key whose DynamoDB create is still on its way here is not free: a retry must wait for it
            // (and then replay it), not create a second payment.
            (guard is null ? "" : "AND NOT EXISTS (SELECT 1 FROM payment_outbox o WHERE o.target = 'postgresql' AND o.organization_id = input.organization_id AND o.idempotency_key = input.record_key) ") +
            "ORDER BY organization_id, record_key, ord " +
            "ON CONFLICT DO NOTHING RETURNING resource_id) " +
            ", pay AS (INSERT INTO payment_transactions (transaction_id, organization_id, campaign_id, donor_id, amount_minor, currency, status, payment_method_type, " +
            "payment_method_token, idempotency_key, failure_code, refunded_amount_minor, created_at, updated_at, version) " +
            "SELECT transaction_id, organization_id, campaign_id, donor_id, amount_minor, currency, status, payment_method_type, payment_method_token, idempotency_key, " +
            "failure_code, refunded_amount_minor, created_at, updated_at, version FROM input WHERE transaction_id IN (SELECT resource_id FROM idem) RETURNING transaction_id) " +
            $", box AS ({PostgreSqlWriteGuard.InsertOutboxRow}" +
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
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            if (guard is not null) await reader.NextResultAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken); // past the table locks and the lock time-out
            while (await reader.ReadAsync(cancellationToken))
            {
                current = reader.GetBoolean(0);
                if (!reader.IsDBNull(1)) inserted[reader.GetGuid(1)] = reader.IsDBNull(2) ? null : reader.GetInt64(2);
            }
        }
        return items.Select(i => inserted.TryGetValue(i.Payment.TransactionId, out var outbox)
            ? new CreateResult(current, true, outbox)
            : new CreateResult(current, false, null)).ToArray();
    }

    private static void Array<T>(NpgsqlBatchCommand command, IEnumerable<T> values, NpgsqlDbType type) =>
        command.Parameters.Add(new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | type });
}
