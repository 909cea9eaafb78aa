using Npgsql;
using NpgsqlTypes;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.Api.Infrastructure.Telemetry;
using ProLifeProsper.Api.Infrastructure.Rows;

namespace ProLifeProsper.Api.Routing;

/// <summary>
/// The <c>payment_outbox</c> table: writes still to be applied to the shadow store. The router records into it (intents, and
/// through the PostgreSQL store the rows of mirrored writes); the store migration's drainer empties it.
/// </summary>
public sealed class PaymentOutbox(NpgsqlDataSource dataSource, ILogger<PaymentOutbox> logger)
{
    private const int ApplyParallelism = 8;

    // An intent, under the routing fence ($1), unless an older write of the payment ($3) is still on its way to DynamoDB ($6).
    private static readonly string RecordIntent =
        $"WITH guard AS ({PostgreSqlWriteGuard.RoutingVersionIsCurrent(1)}), " +
        "blocked AS (SELECT 1 FROM payment_outbox WHERE transaction_id = $3 AND target = $6), " +
        $"box AS ({PostgreSqlWriteGuard.InsertOutboxRow}" +
        "SELECT $7, $2, $3, $4, $5, now(), 0, now() + interval '1 second' WHERE EXISTS (SELECT 1 FROM guard) AND NOT EXISTS (SELECT 1 FROM blocked) RETURNING id) " +
        "SELECT EXISTS (SELECT 1 FROM guard), EXISTS (SELECT 1 FROM blocked), (SELECT id FROM box)";
    private readonly SemaphoreSlim _rowsAdded = new(0, 1);

    /// <summary>Says that a write just added a row: the drainer (store migration) applies it now instead of at its next poll.</summary>
    public void Wake()
    {
        try
        {
            if (_rowsAdded.CurrentCount == 0) _rowsAdded.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already awake.
        }
    }

    /// <summary>Waits for <see cref="Wake"/>, at most <paramref name="timeout"/> (true when woken).</summary>
    public Task<bool> WaitForWakeAsync(TimeSpan timeout, CancellationToken cancellationToken) => _rowsAdded.WaitAsync(timeout, cancellationToken);

    /// <summary>
    /// DynamoDB primary: records the intent to write <paramref name="payment"/> at <paramref name="expectedVersion"/> before
    /// the DynamoDB write, under the routing lock and version check. Refused while an older PostgreSQL write of
    /// the same payment is still on its way to DynamoDB (just after cut-over).
    /// </summary>
    public async Task<long> RecordIntentAsync(long routingVersion, PaymentTransaction payment, string? idempotencyKey, int expectedVersion, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(RoutingLock.AcquireShared));
        var insert = new NpgsqlBatchCommand(RecordIntent);
        insert.Parameters.Add(new() { Value = routingVersion });
        insert.Parameters.Add(new() { Value = payment.OrganizationId });
        insert.Parameters.Add(new() { Value = payment.TransactionId });
        insert.Parameters.Add(new() { Value = (object?)idempotencyKey ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        insert.Parameters.Add(new() { Value = expectedVersion });
        insert.Parameters.Add(new() { Value = DynamoDbPaymentTransactionStore.StoreName });
        insert.Parameters.Add(new() { Value = PostgreSqlPaymentTransactionStore.StoreName });
        batch.BatchCommands.Add(insert);

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        if (!reader.GetBoolean(0)) throw new StaleRoutingException(routingVersion);
        if (reader.GetBoolean(1)) throw DomainErrors.ConcurrentUpdate();
        return reader.GetInt64(2);
    }

    /// <summary>
    /// Claims due rows (skipping rows another instance holds) and runs <paramref name="apply"/> on each inside the claim;
    /// with <paramref name="ignoreBackoff"/>, rows waiting out a retry delay too (someone is waiting for them now).
    /// </summary>
    public async Task<int> DrainAsync(OutboxApply apply, string? target, int limit,
        CancellationToken cancellationToken, long upToId = long.MaxValue, bool ignoreBackoff = false)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await DrainAsync(connection, null, apply, target, limit, cancellationToken, upToId, ignoreBackoff);
    }

    /// <summary>Rows for <paramref name="target"/> up to <paramref name="upToId"/> still waiting (including those another instance holds).</summary>
    public async Task<long> CountAsync(string target, long upToId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM payment_outbox WHERE target = $1 AND id <= $2");
        command.Parameters.Add(new() { Value = target });
        command.Parameters.Add(new() { Value = upToId });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The newest row's id (0 when empty): draining "what is there now" stops there, whatever keeps arriving.</summary>
    public async Task<long> LastIdAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT coalesce(max(id), 0) FROM payment_outbox");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>As above, on a connection (and transaction) the caller holds, e.g. while the routing lock is held.</summary>
    public async Task<int> DrainAsync(NpgsqlConnection connection, NpgsqlTransaction? outer, OutboxApply apply,
        string? target, int limit, CancellationToken cancellationToken, long upToId = long.MaxValue, bool ignoreBackoff = false)
    {
        var transaction = outer ?? await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            var rows = new List<OutboxRow>();
            await using (var claim = new NpgsqlCommand(
                "SELECT id, target, organization_id, transaction_id, idempotency_key, expected_version, enqueued_at, attempts, now() - enqueued_at FROM payment_outbox " +
                "WHERE ($1::text IS NULL OR target = $1) AND ($3 OR next_attempt_at <= now()) AND id <= $4 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED", connection, transaction))
            {
                claim.Parameters.Add(new() { Value = (object?)target ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                claim.Parameters.Add(new() { Value = limit });
                claim.Parameters.Add(new() { Value = outer is not null || ignoreBackoff }); // under the routing lock: everything, now
                claim.Parameters.Add(new() { Value = upToId });
                await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add(new OutboxRow
                    {
                        Id = reader.GetInt64(0), Target = reader.GetString(1), OrganizationId = reader.GetGuid(2), TransactionId = reader.GetGuid(3),
                        IdempotencyKey = reader.IsDBNull(4) ? null : reader.GetString(4), ExpectedVersion = reader.GetInt32(5),
                        EnqueuedAt = reader.GetFieldValue<DateTimeOffset>(6), Attempts = reader.GetInt32(7), Age = reader.GetFieldValue<TimeSpan>(8),
                    });
                }
            }

            // Traced when there are rows: the drainer's polls claim nothing most of the time (see BackgroundTracing).
            using var work = rows.Count > 0 ? BackgroundTracing.StartWork("outbox drain").SetTag("prolifeprosper.outbox.rows", rows.Count) : null;

            // The rows a batch can apply at once first (new payments to DynamoDB); then the rest in parallel (each row is
            // independent and version-conditional); the outcomes are recorded in the claim.
            var outcomes = new System.Collections.Concurrent.ConcurrentBag<(long Id, OutboxOutcome Outcome, string? Error)>();
            var rest = rows;
            if (apply.Batch is { } batch && rows.Count > 0)
            {
                try
                {
                    var batched = await batch(rows, cancellationToken);
                    foreach (var (id, (outcome, error)) in batched) outcomes.Add((id, outcome, error));
                    rest = rows.Where(r => !batched.ContainsKey(r.Id)).ToList();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Nothing is decided for any row: each is applied on its own below (conditional writes, safe after any partial batch).
                    logger.LogWarning(e, "Applying {Rows} outbox rows together failed; applying each on its own", rows.Count);
                }
            }
            await Parallel.ForEachAsync(rest, new ParallelOptions { MaxDegreeOfParallelism = ApplyParallelism, CancellationToken = cancellationToken }, async (row, ct) =>
            {
                try
                {
                    outcomes.Add((row.Id, await apply.Row(row, ct), null));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    outcomes.Add((row.Id, OutboxOutcome.Retry, $"{e.GetType().Name}: {e.Message}"));
                }
            });

            var done = outcomes.Where(o => o.Outcome == OutboxOutcome.Done).Select(o => o.Id).ToList();
            foreach (var (id, _, error) in outcomes.Where(o => o.Outcome != OutboxOutcome.Done))
            {
                await using var reschedule = new NpgsqlCommand(
                    "UPDATE payment_outbox SET attempts = attempts + 1, last_error = $2, " +
                    "next_attempt_at = now() + least(interval '5 seconds', interval '100 milliseconds' * power(2, least(attempts, 10))) WHERE id = $1", connection, transaction);
                reschedule.Parameters.Add(new() { Value = id });
                reschedule.Parameters.Add(new() { Value = (object?)error ?? "source not written yet", NpgsqlDbType = NpgsqlDbType.Text });
                await reschedule.ExecuteNonQueryAsync(cancellationToken);
            }
            if (done.Count > 0)
            {
                await using var delete = new NpgsqlCommand("DELETE FROM payment_outbox WHERE id = ANY($1)", connection, transaction);
                delete.Parameters.Add(new() { Value = done.ToArray() });
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }
            if (outer is null) await transaction.CommitAsync(cancellationToken);
            work?.SetTag("prolifeprosper.outbox.applied", done.Count);
            return done.Count;
        }
        finally
        {
            if (outer is null) await transaction.DisposeAsync();
        }
    }

    public async Task DeleteAsync(long id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM payment_outbox WHERE id = $1");
        command.Parameters.Add(new() { Value = id });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Rows waiting, per target store.</summary>
    public async Task<IReadOnlyDictionary<string, long>> DepthAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT target, count(*) FROM payment_outbox GROUP BY target");
        var depth = new Dictionary<string, long> { [DynamoDbPaymentTransactionStore.StoreName] = 0, [PostgreSqlPaymentTransactionStore.StoreName] = 0 };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) depth[reader.GetString(0)] = reader.GetInt64(1);
        return depth;
    }

    public static async Task<long> DepthAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string target, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT count(*) FROM payment_outbox WHERE target = $1", connection, transaction);
        command.Parameters.Add(new() { Value = target });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public static async Task DeleteAllAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string target, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("DELETE FROM payment_outbox WHERE target = $1", connection, transaction);
        command.Parameters.Add(new() { Value = target });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>
/// How the drain applies its claimed rows: <paramref name="Batch"/>, when given, first takes the rows it can apply together
/// and answers for those; <paramref name="Row"/> applies each of the others.
/// </summary>
public sealed record OutboxApply(
    Func<OutboxRow, CancellationToken, Task<OutboxOutcome>> Row,
    Func<IReadOnlyList<OutboxRow>, CancellationToken, Task<IReadOnlyDictionary<long, (OutboxOutcome Outcome, string? Error)>>>? Batch = null);

/// <summary>What became of one outbox row.</summary>
public enum OutboxOutcome
{
    /// <summary>The shadow has the write (or the write never happened): delete the row.</summary>
    Done,
    /// <summary>Not yet: try again later.</summary>
    Retry,
}
