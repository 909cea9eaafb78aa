using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
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
public sealed class PaymentOutbox(NpgsqlDataSource dataSource, IOptions<DynamoDbOptions> dynamoOptions, ILogger<PaymentOutbox> logger)
{
    private readonly OutboxLease lease = OutboxLease.For(dynamoOptions.Value.WriteTimeout);

    /// <summary>How long a drain holds the rows it claimed (whoever waits for the outbox to empty waits at least this).</summary>
    public OutboxLease Lease => lease;
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
    /// Claims due rows (skipping rows another instance holds) and runs <paramref name="apply"/> on each under the claim;
    /// with <paramref name="ignoreBackoff"/>, rows waiting out a retry delay too (someone is waiting for them now).
    /// The drain of every instance: the claim is a lease committed <em>before</em> anything is sent; the rows are applied
    /// outside any transaction, then settled (deleted when done, rescheduled otherwise) if the lease is still this drain's.
    /// A row lock would not do: it ends with the process, so a process killed with an unconditional put in flight would
    /// hand its rows to another drainer while the put could still land over a newer copy. A lease ends only when nothing
    /// sent under it can still land (<see cref="OutboxLease"/>); until then the rows stay in the outbox, so nothing that
    /// waits for an empty outbox (verification, cut-over) goes ahead of them.
    /// </summary>
    public async Task<int> DrainAsync(OutboxApply apply, string? target, int limit,
        CancellationToken cancellationToken, long upToId = long.MaxValue, bool ignoreBackoff = false)
    {
        var leaseToken = Guid.CreateVersion7();
        // Read before the claim is sent: the database stamps the lease later than this, so the lease lasts at least
        // Duration from here, by which every write sent within SendWithin from here has landed.
        var claimedAt = Stopwatch.GetTimestamp();
        List<OutboxRow> rows;
        await using (var claim = dataSource.CreateCommand(
            // next_attempt_at too: a drainer of an earlier release (a rolling deploy) knows no lease, but waits for that.
            "UPDATE payment_outbox o SET leased_until = now() + $5, lease_token = $6, next_attempt_at = greatest(o.next_attempt_at, now() + $5) " +
            $"FROM (SELECT id AS claimed FROM payment_outbox WHERE {Claimable} ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) c WHERE o.id = c.claimed " +
            $"RETURNING {ClaimedColumns}"))
        {
            AddClaimParameters(claim, target, limit, ignoreBackoff, upToId);
            claim.Parameters.Add(new() { Value = lease.Duration });
            claim.Parameters.Add(new() { Value = leaseToken });
            // Not cut short: a claim committed while its answer is abandoned would leave rows leased with no one to settle them.
            rows = await ReadClaimAsync(claim, claimedAt + (long)(lease.SendWithin.TotalSeconds * Stopwatch.Frequency), CancellationToken.None);
        }
        if (rows.Count == 0) return 0;

        var outcomes = new ConcurrentDictionary<long, (OutboxOutcome Outcome, string? Error)>();
        var failed = false;
        try
        {
            await ApplyAsync(apply, rows, outcomes, cancellationToken);
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            // Also when cut off (shutdown, a deadline): the outcomes known are settled; a row without one keeps its lease
            // until it ends if a put of it may be on its way, and is released otherwise.
            try
            {
                await using var settle = dataSource.CreateBatch();
                AddSettleCommands(settle, rows, outcomes, leaseToken);
                using var deadline = new CancellationTokenSource(lease.SendWithin);
                await settle.ExecuteNonQueryAsync(deadline.Token);
            }
            catch (Exception e) when (failed)
            {
                // The apply's own failure is the one to report; the rows' leases end by themselves.
                logger.LogWarning(e, "Settling {Rows} outbox rows after a failed drain failed too", rows.Count);
            }
        }
        return outcomes.Count(o => o.Value.Outcome == OutboxOutcome.Done);
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

    /// <summary>
    /// The locked drains of a cut-over or rollback, on the connection and transaction that hold the routing lock: rows are
    /// claimed by row lock inside that transaction and settled in it; rows leased to another drain are left to it.
    /// </summary>
    public async Task<int> DrainAsync(NpgsqlConnection connection, NpgsqlTransaction outer, OutboxApply apply,
        string? target, int limit, CancellationToken cancellationToken)
    {
        await using var claim = new NpgsqlCommand(
            $"SELECT {ClaimedColumns} FROM payment_outbox WHERE {Claimable} ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED", connection, outer);
        AddClaimParameters(claim, target, limit, ignoreBackoff: true, long.MaxValue); // under the routing lock: everything, now
        var rows = await ReadClaimAsync(claim, sendBy: null, cancellationToken);
        if (rows.Count == 0) return 0;
        var outcomes = new ConcurrentDictionary<long, (OutboxOutcome Outcome, string? Error)>();
        await ApplyAsync(apply, rows, outcomes, cancellationToken);
        await using var settle = new NpgsqlBatch(connection, outer);
        AddSettleCommands(settle, rows, outcomes, leaseToken: null);
        await settle.ExecuteNonQueryAsync(cancellationToken);
        return outcomes.Count(o => o.Value.Outcome == OutboxOutcome.Done);
    }

    // Due (or everything, $3), up to $4, for $1 (or every target), and not leased to a drain that may still have a write of it
    // on its way (by the clock now, not the transaction's start: a locked drain waits for leases to end inside one transaction).
    private const string Claimable =
        "($1::text IS NULL OR target = $1) AND ($3 OR next_attempt_at <= now()) AND id <= $4 AND (leased_until IS NULL OR leased_until <= clock_timestamp())";

    // What a claim reads of each row, in the order ReadClaimAsync takes it.
    private const string ClaimedColumns =
        "id, target, organization_id, transaction_id, idempotency_key, expected_version, enqueued_at, attempts, now() - enqueued_at";

    private static void AddClaimParameters(NpgsqlCommand claim, string? target, int limit, bool ignoreBackoff, long upToId)
    {
        claim.Parameters.Add(new() { Value = (object?)target ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        claim.Parameters.Add(new() { Value = limit });
        claim.Parameters.Add(new() { Value = ignoreBackoff });
        claim.Parameters.Add(new() { Value = upToId });
    }

    private static async Task<List<OutboxRow>> ReadClaimAsync(NpgsqlCommand claim, long? sendBy, CancellationToken cancellationToken)
    {
        var rows = new List<OutboxRow>();
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new OutboxRow
            {
                Id = reader.GetInt64(0), Target = reader.GetString(1), OrganizationId = reader.GetGuid(2), TransactionId = reader.GetGuid(3),
                IdempotencyKey = reader.IsDBNull(4) ? null : reader.GetString(4), ExpectedVersion = reader.GetInt32(5),
                EnqueuedAt = reader.GetFieldValue<DateTimeOffset>(6), Attempts = reader.GetInt32(7), Age = reader.GetFieldValue<TimeSpan>(8),
                SendBy = sendBy,
            });
        }
        rows.Sort((a, b) => a.Id.CompareTo(b.Id)); // RETURNING keeps no order
        return rows;
    }

    /// <summary>Applies the rows; each outcome is recorded in <paramref name="outcomes"/> as soon as it is known (a drain cut off settles those).</summary>
    private async Task ApplyAsync(OutboxApply apply, List<OutboxRow> rows, ConcurrentDictionary<long, (OutboxOutcome Outcome, string? Error)> outcomes,
        CancellationToken cancellationToken)
    {
        // Traced when there are rows: the drainer's polls claim nothing most of the time (see BackgroundTracing).
        using var work = BackgroundTracing.StartWork("outbox drain").SetTag("prolifeprosper.outbox.rows", rows.Count);

        // The rows a batch can apply at once first (new payments to DynamoDB); then the rest in parallel (each row is
        // independent and version-conditional).
        var rest = rows;
        if (apply.Batch is { } batch)
        {
            try
            {
                var batched = await batch(rows, cancellationToken);
                foreach (var (id, outcome) in batched) outcomes[id] = outcome;
                rest = rows.Where(r => !batched.ContainsKey(r.Id)).ToList();
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Nothing is decided for any row: each is applied on its own below (conditional writes, safe after any partial
                // batch; a put whose outcome is unknown is answered InFlight by the batch itself, not thrown).
                logger.LogWarning(e, "Applying {Rows} outbox rows together failed; applying each on its own", rows.Count);
            }
        }
        await Parallel.ForEachAsync(rest, new ParallelOptions { MaxDegreeOfParallelism = ApplyParallelism, CancellationToken = cancellationToken }, async (row, ct) =>
        {
            try
            {
                outcomes[row.Id] = (await apply.Row(row, ct), null);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // A time-out of the row's own (not the drain being cut off) is a failure like any other: retried.
                outcomes[row.Id] = (OutboxOutcome.Retry, $"{e.GetType().Name}: {e.Message}");
            }
        });
        work.SetTag("prolifeprosper.outbox.applied", outcomes.Count(o => o.Value.Outcome == OutboxOutcome.Done));
    }

    /// <summary>
    /// Done rows deleted; the others rescheduled with backoff, their lease released unless a write of theirs may still land
    /// (<see cref="OutboxOutcome.InFlight"/>: then not due before the lease ends); rows without an outcome (cut off) keep
    /// their lease if an unconditional put of theirs was sent (<see cref="OutboxRow.PutSent"/>), and are released otherwise
    /// (their writes are version-conditional). Only rows still leased to <paramref name="leaseToken"/> (when given): a drain
    /// that outlived its lease settles nothing another took.
    /// </summary>
    private static void AddSettleCommands(NpgsqlBatch settle, List<OutboxRow> rows, IReadOnlyDictionary<long, (OutboxOutcome Outcome, string? Error)> outcomes, Guid? leaseToken)
    {
        var retried = rows.Where(r => outcomes.TryGetValue(r.Id, out var o) && o.Outcome != OutboxOutcome.Done).ToList();
        const string Owned = "($2::uuid IS NULL OR lease_token = $2)";

        // Each statement takes the rows it settles ($1) and the lease they must still carry ($2).
        NpgsqlBatchCommand Add(string sql, IEnumerable<long> ids)
        {
            var command = new NpgsqlBatchCommand(sql);
            command.Parameters.Add(new() { Value = ids.ToArray() });
            command.Parameters.Add(new() { Value = (object?)leaseToken ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            settle.BatchCommands.Add(command);
            return command;
        }

        Add($"DELETE FROM payment_outbox WHERE id = ANY($1) AND {Owned}",
            rows.Where(r => outcomes.TryGetValue(r.Id, out var o) && o.Outcome == OutboxOutcome.Done).Select(r => r.Id));

        var reschedule = Add(
            "UPDATE payment_outbox SET attempts = attempts + 1, last_error = u.error, " +
            "next_attempt_at = greatest(now() + least(interval '5 seconds', interval '100 milliseconds' * power(2, least(attempts, 10))), CASE WHEN u.held THEN leased_until END), " +
            "leased_until = CASE WHEN u.held THEN leased_until END, lease_token = CASE WHEN u.held THEN lease_token END " +
            $"FROM unnest($1::bigint[], $3::text[], $4::boolean[]) AS u(id, error, held) WHERE payment_outbox.id = u.id AND {Owned}",
            retried.Select(r => r.Id));
        reschedule.Parameters.Add(new() { Value = retried.Select(r => outcomes[r.Id].Error ?? "source not written yet").ToArray() });
        reschedule.Parameters.Add(new() { Value = retried.Select(r => outcomes[r.Id].Outcome == OutboxOutcome.InFlight).ToArray() });

        Add($"UPDATE payment_outbox SET leased_until = NULL, lease_token = NULL, next_attempt_at = now() WHERE id = ANY($1) AND {Owned}",
            rows.Where(r => !outcomes.ContainsKey(r.Id) && !r.PutSent).Select(r => r.Id));
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

    /// <summary>
    /// Drops every row for DynamoDB (a rollback from a PostgreSQL-primary phase abandons the copy) and records until when a
    /// put of a dropped row that a drain held may still land (<c>routing_state.dynamo_copies_land_by</c>): a new migration
    /// waits for that (<see cref="DynamoCopiesLandByAsync"/>), or the late put could land over what its backfill copies.
    /// Only rows of a new payment (version 1) count: no other row is ever put unconditionally
    /// (<c>PaymentMirror.ApplyNewPaymentsAsync</c>), and a late conditional copy cannot overwrite a newer version.
    /// </summary>
    public static async Task AbandonDynamoCopiesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "WITH gone AS (DELETE FROM payment_outbox WHERE target = $1 RETURNING leased_until, expected_version) " +
            "UPDATE routing_state SET dynamo_copies_land_by = greatest(dynamo_copies_land_by, (SELECT max(leased_until) FROM gone WHERE expected_version = 1)) WHERE id = 1",
            connection, transaction);
        command.Parameters.Add(new() { Value = DynamoDbPaymentTransactionStore.StoreName });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Until when a copy abandoned by the last rollback may still land in DynamoDB, if that time has not passed yet.</summary>
    public static async Task<DateTimeOffset?> DynamoCopiesLandByAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT dynamo_copies_land_by FROM routing_state WHERE id = 1 AND dynamo_copies_land_by > clock_timestamp()", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? reader.GetFieldValue<DateTimeOffset>(0) : null;
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
    /// <summary>
    /// Not yet, and a write of it that cannot be taken back (an unconditional put) may still land: the row stays leased
    /// until it can no longer land, then is tried again.
    /// </summary>
    InFlight,
}
