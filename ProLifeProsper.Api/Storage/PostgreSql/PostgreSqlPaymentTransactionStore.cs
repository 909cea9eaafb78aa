using Npgsql;
using NpgsqlTypes;
using ProLifeProsper.Api.Infrastructure.EntityConfigurations;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Storage.PostgreSql;

/// <summary>
/// Payments in PostgreSQL, with hand-written SQL: each write is one atomic statement or transaction that
/// writes the payment and its idempotency record together, so a retry can never double-charge.
/// </summary>
public sealed class PostgreSqlPaymentTransactionStore(NpgsqlDataSource dataSource, PostgreSqlCreateBatcher? batcher = null,
    int maxRowsReadPerFilteredPage = PostgreSqlPaymentTransactionStore.MaxRowsReadPerFilteredPage) : IPaymentTransactionStore
{
    public const string StoreName = "postgresql";

    /// <summary>
    /// The most rows one filtered list request (<c>?status=</c>) reads before it answers, as on DynamoDB: what it found, with
    /// a cursor where it stopped. The status is tested on rows read in the (organization, time) index, so without a bound
    /// one request for a rare status read the organization's whole history, and a few at once held the connection pool.
    /// </summary>
    public const int MaxRowsReadPerFilteredPage = 2_000;

    private const string Columns =
        "transaction_id, organization_id, campaign_id, donor_id, amount_minor, currency, status, payment_method_type, " +
        "payment_method_token, idempotency_key, failure_code, refunded_amount_minor, created_at, updated_at, version";

    // A copy from the other store: inserted, or replacing an older version only (parameters: AddPaymentParameters).
    private const string UpsertIfNewer =
        $"INSERT INTO payment_transactions ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) " +
        "ON CONFLICT (transaction_id) DO UPDATE SET status = EXCLUDED.status, failure_code = EXCLUDED.failure_code, " +
        "refunded_amount_minor = EXCLUDED.refunded_amount_minor, updated_at = EXCLUDED.updated_at, version = EXCLUDED.version " +
        "WHERE payment_transactions.version < EXCLUDED.version";

    // An idempotency record's columns, in the order ReadRecord reads them and AddRecordParameters binds them.
    private const string RecordColumns = "organization_id, key, fingerprint, resource_id, response_json, created_at";

    // An idempotency record, unless its key is taken (parameters: AddRecordParameters).
    private const string InsertRecordIfAbsent =
        $"INSERT INTO idempotency_records ({RecordColumns}) " +
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";

    private const string CapturedStatuses = "('succeeded', 'partially_refunded', 'refunded')";

    // A guarded update's checks, after the shared routing lock: the routing version is current ($1), and no newer DynamoDB
    // version of the payment ($2) is still on its way here ($3: this store).
    private static readonly string GuardedUpdateCheck = $"SELECT EXISTS ({PostgreSqlWriteGuard.RoutingVersionIsCurrent(1)}), " +
        "EXISTS (SELECT 1 FROM payment_outbox WHERE transaction_id = $2 AND target = $3), " +
        // After a rollback a key whose DynamoDB write is still coming home is not free for a refund either (as for creates).
        "EXISTS (SELECT 1 FROM payment_outbox WHERE target = $3 AND organization_id = $4 AND idempotency_key = $5)";

    // The outbox row that carries a guarded update to the store mirrored to.
    private static readonly string MirrorUpdate = PostgreSqlWriteGuard.InsertOutboxRow + "VALUES ($1, $2, $3, $4, $5, now(), 0, now()) RETURNING id";

    public string Name => StoreName;

    public Task EnsureWritableAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<IdempotencyRecord?> FindIdempotencyRecordAsync(Guid organizationId, string key, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {RecordColumns} FROM idempotency_records WHERE organization_id = $1 AND key = $2");
        command.Parameters.Add(new() { Value = organizationId });
        command.Parameters.Add(new() { Value = key });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRecord(reader) : null;
    }

    public async Task<IdempotencyRecord> CreateAsync(PaymentTransaction payment, IdempotencyRecord record, CancellationToken cancellationToken) =>
        (await CreateAsync(payment, record, null, cancellationToken)).Record;

    /// <summary>
    /// Creates the payment and its idempotency record in one statement; with a <paramref name="guard"/>, only if
    /// the routing version is still current (else <see cref="StaleRoutingException"/>), and with the outbox row
    /// that mirrors it. A used key writes nothing and returns the record already stored.
    /// </summary>
    public async Task<(IdempotencyRecord Record, long? OutboxId)> CreateAsync(PaymentTransaction payment, IdempotencyRecord record,
        PostgreSqlWriteGuard? guard, CancellationToken cancellationToken)
    {
        // One statement either way (see PostgreSqlCreateStatement); with group commit, shared with concurrent creates.
        // A racing request with the same key waits on the unique index, then inserts nothing and reads the winner's record.
        CreateResult result;
        try
        {
            result = batcher is not null
                ? await batcher.CreateAsync(payment, record, guard, cancellationToken)
                : (await PostgreSqlCreateStatement.ExecuteAsync(dataSource, [(payment, record)], guard, cancellationToken))[0];
        }
        catch (PostgresException e) when (e is { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: PaymentTransactionConfiguration.UniqueKeyIndex })
        {
            // A payment holds the key without an idempotency record: copied home from DynamoDB, which had lost the record
            // (docs/migration.md). It is the key's payment, so the request is answered as a retry of it (replayed, or 422 for
            // another body) from a record made of it, which is kept: later retries take the usual path, and the key is no longer
            // free for a refund to take (which would give this payment's charge back while it stands).
            if (await FindByKeyAsync(record.OrganizationId, record.Key, cancellationToken) is not { } holder) throw;
            var outboxId = await KeepRecordOfAsync(holder, guard, cancellationToken);
            return (await FindIdempotencyRecordAsync(record.OrganizationId, record.Key, cancellationToken) ?? throw DomainErrors.IdempotencyKeyInFlight(), outboxId);
        }
        if (!result.Current) throw new StaleRoutingException(guard!.RoutingVersion);
        if (result.Inserted) return (record, result.OutboxId);
        // No record under a key that inserted nothing: its DynamoDB write is still on its way here (after a rollback).
        return (await FindIdempotencyRecordAsync(record.OrganizationId, record.Key, cancellationToken)
            ?? throw DomainErrors.IdempotencyKeyInFlight(), null);
    }

    public async Task<IdempotencyRecord?> UpdateAsync(PaymentTransaction updated, IdempotencyRecord? record, CancellationToken cancellationToken) =>
        (await UpdateAsync(updated, record, null, cancellationToken)).Record;

    /// <summary>
    /// The conditional update (and its idempotency record) in one transaction; with a <paramref name="guard"/>,
    /// checked against the routing version, refused while a newer DynamoDB version of the payment is still on its
    /// way here (after a rollback), and recorded in the outbox.
    /// </summary>
    public async Task<(IdempotencyRecord? Record, long? OutboxId)> UpdateAsync(PaymentTransaction updated, IdempotencyRecord? record,
        PostgreSqlWriteGuard? guard, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (guard is not null)
        {
            // The lock first, in its own statement, so the version check below reads after any phase change commits.
            await using (var acquire = new NpgsqlCommand(RoutingLock.AcquireShared, connection, transaction))
                await acquire.ExecuteNonQueryAsync(cancellationToken);
            await using var check = new NpgsqlCommand("", connection, transaction);
            check.CommandText = GuardedUpdateCheck;
            check.Parameters.Add(new() { Value = guard.RoutingVersion });
            check.Parameters.Add(new() { Value = updated.TransactionId });
            check.Parameters.Add(new() { Value = StoreName });
            check.Parameters.Add(new() { Value = updated.OrganizationId });
            check.Parameters.Add(new() { Value = (object?)record?.Key ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            await using (var reader = await check.ExecuteReaderAsync(cancellationToken))
            {
                await reader.ReadAsync(cancellationToken);
                if (!reader.GetBoolean(0)) throw new StaleRoutingException(guard.RoutingVersion);
                if (reader.GetBoolean(1)) throw DomainErrors.ConcurrentUpdate(); // a newer DynamoDB version is still being copied back
                if (reader.GetBoolean(2)) throw DomainErrors.IdempotencyKeyInFlight();
            }
        }

        if (record is not null)
        {
            await using var insert = new NpgsqlCommand(InsertRecordIfAbsent, connection, transaction);
            AddRecordParameters(insert.Parameters, record);
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                return (await FindIdempotencyRecordAsync(record.OrganizationId, record.Key, cancellationToken), null);
            }
        }

        await using var update = new NpgsqlCommand(
            "UPDATE payment_transactions SET status = $3, failure_code = $4, refunded_amount_minor = $5, updated_at = $6, version = $7 " +
            "WHERE transaction_id = $1 AND organization_id = $2 AND version = $7 - 1", connection, transaction);
        update.Parameters.Add(new() { Value = updated.TransactionId });
        update.Parameters.Add(new() { Value = updated.OrganizationId });
        update.Parameters.Add(new() { Value = updated.Status.ToWire() });
        update.Parameters.Add(new() { Value = (object?)updated.FailureCode ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        update.Parameters.Add(new() { Value = updated.RefundedAmountMinor });
        update.Parameters.Add(new() { Value = updated.UpdatedAt });
        update.Parameters.Add(new() { Value = updated.Version });
        if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            throw DomainErrors.ConcurrentUpdate();
        }

        long? outboxId = null;
        if (guard?.MirrorTo is { } target)
        {
            await using var box = new NpgsqlCommand(MirrorUpdate, connection, transaction);
            box.Parameters.Add(new() { Value = target });
            box.Parameters.Add(new() { Value = updated.OrganizationId });
            box.Parameters.Add(new() { Value = updated.TransactionId });
            box.Parameters.Add(new() { Value = (object?)record?.Key ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            box.Parameters.Add(new() { Value = updated.Version });
            outboxId = (long)(await box.ExecuteScalarAsync(cancellationToken))!;
        }
        await transaction.CommitAsync(cancellationToken);
        return (record, outboxId);
    }

    /// <summary>Writes a payment copied from the other store, unless this store already has that version or a newer one.</summary>
    public async Task<bool> CopyAsync(PaymentTransaction payment, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(UpsertIfNewer);
        AddPaymentParameters(command.Parameters, payment);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// dynamo-primary's shadow copy of one write, in one round trip and one commit: the payment as DynamoDB has it (if
    /// known), the idempotency record in effect (if any), and the write's intent cleared — all or nothing, so an intent is
    /// never cleared without its copy. A failure (e.g. a second payment for a key) leaves it all to the outbox drainer.
    /// </summary>
    public async Task ShadowAsync(PaymentTransaction? payment, IdempotencyRecord? record, long intentId, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        // The intent row first: a locked drain (cut-over, rollback) locks it before the payment row (its copy), and the
        // same order here keeps the two from waiting on each other.
        var clear = new NpgsqlBatchCommand("DELETE FROM payment_outbox WHERE id = $1");
        clear.Parameters.Add(new() { Value = intentId });
        batch.BatchCommands.Add(clear);
        if (payment is not null)
        {
            var copy = new NpgsqlBatchCommand(UpsertIfNewer);
            AddPaymentParameters(copy.Parameters, payment);
            batch.BatchCommands.Add(copy);
        }
        if (record is not null)
        {
            var keep = new NpgsqlBatchCommand(InsertRecordIfAbsent);
            AddRecordParameters(keep.Parameters, record);
            batch.BatchCommands.Add(keep);
        }
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Keeps an idempotency record copied from the other store (a key already here is left alone).</summary>
    public async Task CopyIdempotencyRecordAsync(IdempotencyRecord record, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(InsertRecordIfAbsent);
        AddRecordParameters(command.Parameters, record);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The payments with these ids and the idempotency records under these keys, as they stand now, in one round trip
    /// (for the outbox drainer's batched copy).
    /// </summary>
    public async Task<(IReadOnlyDictionary<Guid, PaymentTransaction> Payments, IReadOnlyDictionary<(Guid OrganizationId, string Key), IdempotencyRecord> Records)>
        ReadForCopyAsync(IReadOnlyCollection<Guid> transactionIds, IReadOnlyCollection<(Guid OrganizationId, string Key)> keys, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        var payments = new NpgsqlBatchCommand($"SELECT {Columns} FROM payment_transactions WHERE transaction_id = ANY($1)");
        payments.Parameters.Add(new() { Value = transactionIds.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        batch.BatchCommands.Add(payments);
        var records = new NpgsqlBatchCommand(
            $"SELECT {RecordColumns} FROM idempotency_records WHERE (organization_id, key) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))");
        records.Parameters.Add(new() { Value = keys.Select(k => k.OrganizationId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        records.Parameters.Add(new() { Value = keys.Select(k => k.Key).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        batch.BatchCommands.Add(records);

        var foundPayments = new Dictionary<Guid, PaymentTransaction>();
        var foundRecords = new Dictionary<(Guid, string), IdempotencyRecord>();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var payment = ReadPayment(reader);
            foundPayments[payment.TransactionId] = payment;
        }
        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var record = ReadRecord(reader);
            foundRecords[(record.OrganizationId, record.Key)] = record;
        }
        return (foundPayments, foundRecords);
    }

    /// <summary>The current version of each of these payments (absent ones are left out).</summary>
    public async Task<IReadOnlyDictionary<Guid, int>> VersionsAsync(IReadOnlyCollection<Guid> transactionIds, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT transaction_id, version FROM payment_transactions WHERE transaction_id = ANY($1)");
        command.Parameters.Add(new() { Value = transactionIds.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        var versions = new Dictionary<Guid, int>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) versions[reader.GetGuid(0)] = reader.GetInt32(1);
        return versions;
    }

    /// <summary>Payments in creation order after <paramref name="after"/> and up to <paramref name="upTo"/> (for the backfill).</summary>
    public async Task<IReadOnlyList<PaymentTransaction>> ReadBatchAsync(PageCursor? after, PageCursor upTo, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {Columns} FROM payment_transactions WHERE (created_at, transaction_id) <= ($2, $3) " +
            (after is null ? "" : "AND (created_at, transaction_id) > ($4, $5) ") +
            "ORDER BY created_at, transaction_id LIMIT $1");
        command.Parameters.Add(new() { Value = limit });
        command.Parameters.Add(new() { Value = upTo.CreatedAt });
        command.Parameters.Add(new() { Value = upTo.Id });
        if (after is { } a)
        {
            command.Parameters.Add(new() { Value = a.CreatedAt });
            command.Parameters.Add(new() { Value = a.Id });
        }
        return await ReadPaymentsAsync(command, cancellationToken);
    }

    /// <summary>Idempotency records created up to <paramref name="createdUpTo"/>, in (organization, key) order after the given one (for the backfill).</summary>
    public async Task<IReadOnlyList<IdempotencyRecord>> ReadRecordBatchAsync(Guid? afterOrganization, string? afterKey, DateTimeOffset createdUpTo, int limit,
        CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {RecordColumns} FROM idempotency_records WHERE created_at <= $2 " +
            (afterOrganization is null ? "" : "AND (organization_id, key) > ($3, $4) ") +
            "ORDER BY organization_id, key LIMIT $1");
        command.Parameters.Add(new() { Value = limit });
        command.Parameters.Add(new() { Value = createdUpTo });
        if (afterOrganization is { } org)
        {
            command.Parameters.Add(new() { Value = org });
            command.Parameters.Add(new() { Value = afterKey! });
        }
        var records = new List<IdempotencyRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) records.Add(ReadRecord(reader));
        return records;
    }

    public async Task<bool> AnyAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM payment_transactions)");
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM payment_transactions");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The idempotency record a payment's create would have left: the payment as it stands, under its key.</summary>
    private static IdempotencyRecord RecordOf(PaymentTransaction payment) => IdempotencyRecord.OfCreate(payment,
        new PaymentRequest(payment.CampaignId, payment.DonorId, payment.AmountMinor, payment.Currency, payment.PaymentMethodType, payment.PaymentMethodToken).Fingerprint());

    /// <summary>
    /// Keeps the record made of a payment that holds its key without one, as a guarded create keeps its own: under the shared
    /// routing lock, only while the routing version is current (else <see cref="StaleRoutingException"/>), and with the outbox
    /// row that mirrors it to the other store, so the key is taken there too. Returns that row's id, if one was written.
    /// </summary>
    private async Task<long?> KeepRecordOfAsync(PaymentTransaction holder, PostgreSqlWriteGuard? guard, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        if (guard is not null) batch.BatchCommands.Add(new NpgsqlBatchCommand(RoutingLock.AcquireShared));
        var keep = new NpgsqlBatchCommand(
            $"WITH guard AS ({(guard is null ? "SELECT 1" : PostgreSqlWriteGuard.RoutingVersionIsCurrent(7))}), " +
            $"kept AS (INSERT INTO idempotency_records ({RecordColumns}) SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM guard) " +
            "ON CONFLICT DO NOTHING RETURNING resource_id), " +
            $"box AS ({PostgreSqlWriteGuard.InsertOutboxRow}SELECT $8, $1, $4, $2, $9, now(), 0, now() WHERE $8 IS NOT NULL AND EXISTS (SELECT 1 FROM kept) RETURNING id) " +
            "SELECT EXISTS (SELECT 1 FROM guard), (SELECT id FROM box)");
        AddRecordParameters(keep.Parameters, RecordOf(holder));
        keep.Parameters.Add(new() { Value = guard?.RoutingVersion ?? 0L });
        keep.Parameters.Add(new() { Value = (object?)guard?.MirrorTo ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        keep.Parameters.Add(new() { Value = holder.Version });
        batch.BatchCommands.Add(keep);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (guard is not null) await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        if (!reader.GetBoolean(0)) throw new StaleRoutingException(guard!.RoutingVersion);
        return reader.IsDBNull(1) ? null : reader.GetInt64(1);
    }

    private Task<PaymentTransaction?> FindByKeyAsync(Guid organizationId, string key, CancellationToken cancellationToken) =>
        FindOneAsync("organization_id = $1 AND idempotency_key = $2", organizationId, key, cancellationToken);

    public Task<PaymentTransaction?> GetAsync(Guid organizationId, Guid transactionId, CancellationToken cancellationToken) =>
        FindOneAsync("organization_id = $1 AND transaction_id = $2", organizationId, transactionId, cancellationToken);

    /// <summary>The organization's payment that a unique condition on its rows names, if any.</summary>
    private async Task<PaymentTransaction?> FindOneAsync(string condition, Guid organizationId, object value, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM payment_transactions WHERE {condition}");
        command.Parameters.Add(new() { Value = organizationId });
        command.Parameters.Add(new() { Value = value });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadPayment(reader) : null;
    }

    public async Task<Page<PaymentTransaction>> ListAsync(PaymentListQuery query, CancellationToken cancellationToken)
    {
        const string Newest = " ORDER BY created_at DESC, transaction_id DESC";
        var range = "organization_id = $1 AND created_at >= $2 AND created_at < $3";
        await using var command = dataSource.CreateCommand();
        command.Parameters.Add(new() { Value = query.OrganizationId });
        command.Parameters.Add(new() { Value = query.From });
        command.Parameters.Add(new() { Value = query.To });
        command.Parameters.Add(new() { Value = query.Limit + 1 });
        if (query.After is { } after)
        {
            command.Parameters.Add(new() { Value = after.CreatedAt });
            command.Parameters.Add(new() { Value = after.Id });
            range += $" AND (created_at, transaction_id) < (${command.Parameters.Count - 1}, ${command.Parameters.Count})";
        }
        if (query.Status is not { } status)
        {
            command.CommandText = $"SELECT {Columns} FROM payment_transactions WHERE {range}{Newest} LIMIT $4";
            return Page<PaymentTransaction>.FromOverfetch(await ReadPaymentsAsync(command, cancellationToken), query.Limit, PaymentListQuery.CursorOf);
        }

        // Filtered: the newest rows up to the budget are read, those of the status kept, and the last row read comes along
        // (flagged) so that a page cut short by the budget can say where the next one starts.
        command.Parameters.Add(new() { Value = status.ToWire() });
        var statusParameter = command.Parameters.Count;
        command.Parameters.Add(new() { Value = maxRowsReadPerFilteredPage });
        var budgetParameter = command.Parameters.Count;
        command.CommandText =
            $"SELECT {Columns}, status = ${statusParameter} AS wanted, read = ${budgetParameter} AS last_read FROM (" +
            $"SELECT {Columns}, row_number() OVER ({Newest.Trim()}) AS read FROM (" +
            $"SELECT {Columns} FROM payment_transactions WHERE {range}{Newest} LIMIT ${budgetParameter}) newest) numbered " +
            $"WHERE status = ${statusParameter} OR read = ${budgetParameter}{Newest} LIMIT $4";
        var wanted = new List<PaymentTransaction>();
        PaymentTransaction? lastRead = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            var columns = reader.FieldCount - 2;
            while (await reader.ReadAsync(cancellationToken))
            {
                var payment = ReadPayment(reader);
                if (reader.GetBoolean(columns)) wanted.Add(payment);
                if (reader.GetBoolean(columns + 1)) lastRead = payment;
            }
        }
        if (wanted.Count > query.Limit || lastRead is null) return Page<PaymentTransaction>.FromOverfetch(wanted, query.Limit, PaymentListQuery.CursorOf);
        return new Page<PaymentTransaction>(wanted, PaymentListQuery.CursorOf(lastRead)); // the budget is spent: a short page
    }

    public async Task<IReadOnlyList<PaymentTransaction>> GetPendingAsync(DateTimeOffset createdBefore, PageCursor? after, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {Columns} FROM payment_transactions WHERE status = 'pending' AND created_at < $1 " +
            (after is null ? "" : "AND (created_at, transaction_id) > ($3, $4) ") +
            "ORDER BY created_at, transaction_id LIMIT $2");
        command.Parameters.Add(new() { Value = createdBefore });
        command.Parameters.Add(new() { Value = limit });
        if (after is { } a)
        {
            command.Parameters.Add(new() { Value = a.CreatedAt });
            command.Parameters.Add(new() { Value = a.Id });
        }
        return await ReadPaymentsAsync(command, cancellationToken);
    }

    /// <summary>
    /// An aggregate over the organization's payments in the range: its cost grows with them (an index range scan and a row
    /// per payment), so these reads share a budget per organization and instance (<see cref="PaymentQueryBudget.PostgreSqlHourlyTotals"/>,
    /// <see cref="PaymentQueryBudget.PostgreSqlCampaignTotals"/>)
    /// and are cut off after <see cref="TotalsReadTimeoutSeconds"/> (503). Sums past a long's range are held at its maximum
    /// (9.2 × 10^18 minor units: some 92 million payments of the largest amount) rather than failing the read.
    /// </summary>
    public Task<IReadOnlyList<HourlyPaymentTotal>> GetHourlyTotalsAsync(Guid organizationId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        PaymentQueryBudget.PostgreSqlHourlyTotals.RunAsync<IReadOnlyList<HourlyPaymentTotal>>(organizationId, async () =>
        {
            await using var command = dataSource.CreateCommand(
                $"SELECT date_trunc('hour', created_at, 'UTC') AS hour, currency, count(*), {Capped("sum(amount_minor)")}, {Capped("sum(refunded_amount_minor)")} " +
                "FROM payment_transactions WHERE organization_id = $1 AND created_at >= $2 AND created_at < $3 " +
                $"AND status IN {CapturedStatuses} GROUP BY 1, 2 ORDER BY 1, 2");
            command.CommandTimeout = TotalsReadTimeoutSeconds;
            command.Parameters.Add(new() { Value = organizationId });
            command.Parameters.Add(new() { Value = from });
            command.Parameters.Add(new() { Value = to });
            var totals = new List<HourlyPaymentTotal>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                totals.Add(new HourlyPaymentTotal(reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1),
                    reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
            }
            return totals;
        }, cancellationToken);

    /// <summary>As <see cref="GetHourlyTotalsAsync"/>: over all of the campaigns' payments, within a budget of its own.</summary>
    public Task<IReadOnlyDictionary<Guid, CampaignTotals>> GetCampaignTotalsAsync(Guid organizationId, IReadOnlyCollection<Guid> campaignIds, CancellationToken cancellationToken)
    {
        if (campaignIds.Count == 0) return Task.FromResult<IReadOnlyDictionary<Guid, CampaignTotals>>(new Dictionary<Guid, CampaignTotals>());
        return PaymentQueryBudget.PostgreSqlCampaignTotals.RunAsync<IReadOnlyDictionary<Guid, CampaignTotals>>(organizationId, async () =>
        {
            var totals = new Dictionary<Guid, CampaignTotals>();
            await using var command = dataSource.CreateCommand(
                $"SELECT campaign_id, {Capped("sum(amount_minor - refunded_amount_minor)")}, count(*) FROM payment_transactions " +
                "WHERE organization_id = $1 AND campaign_id = ANY($2) AND status IN ('succeeded', 'partially_refunded') GROUP BY campaign_id");
            command.CommandTimeout = TotalsReadTimeoutSeconds;
            command.Parameters.Add(new() { Value = organizationId });
            command.Parameters.Add(new() { Value = campaignIds.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                totals[reader.GetGuid(0)] = new CampaignTotals(reader.GetInt64(1), reader.GetInt64(2));
            return totals;
        }, cancellationToken);
    }

    /// <summary>How long one read of totals may run (Npgsql cancels it; the request answers 503).</summary>
    internal const int TotalsReadTimeoutSeconds = 30;

    // sum() of bigints is numeric: held within bigint instead of failing the cast (22003) past 2^63 - 1.
    private static string Capped(string sum) => $"least({sum}, {long.MaxValue})::bigint";

    private static void AddPaymentParameters(NpgsqlParameterCollection parameters, PaymentTransaction p)
    {
        parameters.Add(new() { Value = p.TransactionId });
        parameters.Add(new() { Value = p.OrganizationId });
        parameters.Add(new() { Value = p.CampaignId });
        parameters.Add(new() { Value = p.DonorId });
        parameters.Add(new() { Value = p.AmountMinor });
        parameters.Add(new() { Value = p.Currency });
        parameters.Add(new() { Value = p.Status.ToWire() });
        parameters.Add(new() { Value = p.PaymentMethodType.ToWire() });
        parameters.Add(new() { Value = p.PaymentMethodToken });
        parameters.Add(new() { Value = p.IdempotencyKey });
        parameters.Add(new() { Value = (object?)p.FailureCode ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        parameters.Add(new() { Value = p.RefundedAmountMinor });
        parameters.Add(new() { Value = p.CreatedAt });
        parameters.Add(new() { Value = p.UpdatedAt });
        parameters.Add(new() { Value = p.Version });
    }

    private static void AddRecordParameters(NpgsqlParameterCollection parameters, IdempotencyRecord record)
    {
        parameters.Add(new() { Value = record.OrganizationId });
        parameters.Add(new() { Value = record.Key });
        parameters.Add(new() { Value = record.Fingerprint });
        parameters.Add(new() { Value = record.ResourceId });
        parameters.Add(new() { Value = record.ResponseJson });
        parameters.Add(new() { Value = record.CreatedAt });
    }

    private static async Task<List<PaymentTransaction>> ReadPaymentsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var items = new List<PaymentTransaction>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) items.Add(ReadPayment(reader));
        return items;
    }

    private static PaymentTransaction ReadPayment(NpgsqlDataReader r) => new()
    {
        TransactionId = r.GetGuid(0),
        OrganizationId = r.GetGuid(1),
        CampaignId = r.GetGuid(2),
        DonorId = r.GetGuid(3),
        AmountMinor = r.GetInt64(4),
        Currency = r.GetString(5),
        Status = PaymentStatusNames.Parse(r.GetString(6)),
        PaymentMethodType = PaymentMethodTypeNames.Parse(r.GetString(7)),
        PaymentMethodToken = r.GetString(8),
        IdempotencyKey = r.GetString(9),
        FailureCode = r.IsDBNull(10) ? null : r.GetString(10),
        RefundedAmountMinor = r.GetInt64(11),
        CreatedAt = r.GetFieldValue<DateTimeOffset>(12),
        UpdatedAt = r.GetFieldValue<DateTimeOffset>(13),
        Version = r.GetInt32(14),
    };

    private static IdempotencyRecord ReadRecord(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetGuid(3), r.GetString(4), r.GetFieldValue<DateTimeOffset>(5));
}
