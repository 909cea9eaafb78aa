using Microsoft.Extensions.Options;
using Npgsql;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Api.Infrastructure.Telemetry;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.Apis.Contracts;

namespace ProLifeProsper.Api.StoreMigration;

/// <summary>
/// Copies historical payments (and idempotency records) from PostgreSQL to DynamoDB in creation order, in
/// batches, with a checkpoint after every batch, so a crash or restart resumes where it stopped. Each copy is
/// conditional on the version, so it never replaces a newer item that dual-write already wrote. A token bucket
/// caps the rate so live traffic keeps its throughput. Each run is identified by its <c>started_at</c>: a holder whose run a
/// rollback and a new start overtook (its phase cache never saw the rollback) cannot write its checkpoint, or "done", into
/// the new run, which would skip payments that only the new run can copy.
/// </summary>
public sealed class Backfill(
    NpgsqlDataSource dataSource,
    PostgreSqlPaymentTransactionStore postgres,
    DynamoDbPaymentTransactionStore dynamo,
    RoutingStateCache routing,
    IOptions<MigrationOptions> options,
    MigrationMetrics metrics,
    TimeProvider time,
    ILogger<Backfill> logger)
{
    private const int CopyParallelism = 8;

    public const string LeaseName = "backfill";

    /// <summary>The total of a run whose payments the backfill has not counted yet.</summary>
    private const long NotCounted = -1;

    /// <summary>
    /// Starts over: clears the checkpoint and marks the newest payment as the high-water mark. It runs inside the phase
    /// change to dual-write, under the exclusive routing lock every payment write waits on, so every payment written after
    /// it has an outbox row and the backfill need not chase them; so it reads only what an index answers at once (the
    /// newest payment, by the backfill's own index). What there is to copy is counted afterwards by the backfill, outside
    /// the lock (<see cref="NotCounted"/> until then). Records have no time index, and writers stamp them with their own
    /// clocks: the backfill copies every record (records are never changed nor deleted in PostgreSQL, and a copy is a
    /// conditional put, so one written since, which its outbox row carries too, is copied twice, harmlessly).
    /// </summary>
    public static async Task ResetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken, bool startRun = true)
    {
        await using var reset = new NpgsqlCommand(
            "UPDATE backfill_progress SET checkpoint_created_at = NULL, checkpoint_transaction_id = NULL, checkpoint_record_organization_id = NULL, " +
            "checkpoint_record_key = NULL, copied = 0, payments_done = false, records_copied = 0, " +
            "total = $2, " +
            "started_at = CASE WHEN $1 THEN clock_timestamp() END, completed_at = NULL, " +
            "(high_water_created_at, high_water_transaction_id) = (SELECT created_at, transaction_id FROM payment_transactions ORDER BY created_at DESC, transaction_id DESC LIMIT 1), " +
            "high_water_record_created_at = '9999-12-31 00:00:00+00' WHERE id = 1",
            connection, transaction);
        reset.Parameters.Add(new() { Value = startRun });
        reset.Parameters.Add(new() { Value = NotCounted });
        await reset.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<BackfillProgress> ReadProgressAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT copied, total, records_copied, started_at, completed_at, checkpoint_created_at, checkpoint_transaction_id FROM backfill_progress WHERE id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return new BackfillProgress(0, 0, 0, null, null, null, null, 0, null);
        var (copied, total) = (reader.GetInt64(0), Math.Max(reader.GetInt64(1), 0)); // 0 until counted
        DateTimeOffset? started = reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3);
        DateTimeOffset? completed = reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4);
        var elapsed = started is null ? 0 : ((completed ?? UtcClock.Now(time)) - started.Value).TotalSeconds;
        var rate = elapsed > 0 ? Math.Round(copied / elapsed, 1) : 0;
        double? eta = completed is not null ? 0 : rate > 0 && total > 0 ? Math.Round(Math.Max(0, total - copied) / rate, 1) : null;
        return new BackfillProgress(copied, total, reader.GetInt64(2), started, completed,
            reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(6) ? null : reader.GetGuid(6), rate, eta);
    }

    /// <summary>
    /// Runs (or resumes) the backfill until done, the phase moves away, the lease is lost (<paramref name="renew"/> false)
    /// or the token ends. True when complete.
    /// </summary>
    public async Task<bool> RunAsync(Func<CancellationToken, Task<bool>> renew, CancellationToken cancellationToken)
    {
        using var limiter = new CopyRateLimiter(options.Value.BackfillItemsPerSecond);
        using var perOrganization = new PartitionCopyRateLimiter(options.Value.BackfillItemsPerSecondPerOrganization);
        DateTimeOffset? countedRun = null;
        while (StillBackfilling())
        {
            using var work = BackgroundTracing.StartWork("backfill batch");
            if (!await renew(cancellationToken)) return false; // another instance took over (this one stalled)
            var checkpoint = await ReadCheckpointAsync(cancellationToken);
            if (checkpoint.Done) return true;
            if (checkpoint.Run is null) return false; // rolled back: no run to copy (this instance's phase view is behind)
            if (checkpoint.Total == NotCounted && countedRun != checkpoint.Run)
            {
                countedRun = checkpoint.Run; // once per run: a count that fails leaves the progress without a total, not the copy stuck
                await CountAsync(checkpoint, cancellationToken);
            }
            if (!checkpoint.PaymentsDone)
            {
                var batch = checkpoint.HighWater is { } highWater
                    ? await postgres.ReadBatchAsync(checkpoint.Payment, highWater, options.Value.BackfillBatchSize, cancellationToken)
                    : [];
                if (batch.Count == 0)
                {
                    await SaveAsync(checkpoint.Run, "payments_done = true", [], cancellationToken);
                    continue;
                }
                await limiter.AcquireAsync(batch.Count, cancellationToken);
                await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = CopyParallelism, CancellationToken = cancellationToken },
                    async (payment, ct) =>
                    {
                        await perOrganization.AcquireAsync(payment.OrganizationId, ct);
                        await dynamo.CopyAsync(payment, ct);
                    });
                var last = batch[^1];
                if (await SaveAsync(checkpoint.Run, "checkpoint_created_at = $1, checkpoint_transaction_id = $2, copied = copied + $3",
                    [last.CreatedAt, last.TransactionId, (long)batch.Count], cancellationToken)) metrics.Backfilled(batch.Count);
                continue;
            }

            // Records written since dual-write began travel with their writes' outbox rows (one committed later with an
            // older time is copied twice, harmlessly).
            var records = checkpoint.RecordHighWater is { } recordHighWater
                ? await postgres.ReadRecordBatchAsync(checkpoint.RecordOrganization, checkpoint.RecordKey, recordHighWater, options.Value.BackfillBatchSize, cancellationToken)
                : [];
            if (records.Count == 0)
            {
                if (!await SaveAsync(checkpoint.Run, "completed_at = now()", [], cancellationToken)) continue;
                logger.LogInformation("Backfill complete");
                return true;
            }
            await limiter.AcquireAsync(records.Count, cancellationToken);
            await Parallel.ForEachAsync(records, new ParallelOptions { MaxDegreeOfParallelism = CopyParallelism, CancellationToken = cancellationToken },
                async (record, ct) =>
                {
                    await perOrganization.AcquireAsync(record.OrganizationId, ct);
                    await dynamo.CopyIdempotencyRecordAsync(record, ct);
                });
            var lastRecord = records[^1];
            await SaveAsync(checkpoint.Run, "checkpoint_record_organization_id = $1, checkpoint_record_key = $2, records_copied = records_copied + $3",
                [lastRecord.OrganizationId, lastRecord.Key, (long)records.Count], cancellationToken);
        }
        return false;
    }

    /// <summary>
    /// Counts what the run copies (the payments up to its high-water mark, by the backfill's index) as a plain read, then
    /// records it in a short update: nothing holds the progress row (which a rollback's reset, under the routing lock, waits
    /// for) while a large table is counted.
    /// </summary>
    private async Task CountAsync(Checkpoint checkpoint, CancellationToken cancellationToken)
    {
        try
        {
            long total = 0;
            if (checkpoint.HighWater is { } highWater)
            {
                await using var count = dataSource.CreateCommand("SELECT count(*) FROM payment_transactions WHERE (created_at, transaction_id) <= ($1, $2)");
                count.CommandTimeout = 600;
                count.Parameters.Add(new() { Value = highWater.CreatedAt });
                count.Parameters.Add(new() { Value = highWater.Id });
                total = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
            }
            await SaveAsync(checkpoint.Run, "total = $1", [total], cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            logger.LogWarning(e, "The backfill could not count the payments it copies; it goes on without a total");
        }
    }

    private bool StillBackfilling() => routing.Current.Phase is MigrationPhase.DualWrite or MigrationPhase.Backfill;

    private sealed record Checkpoint(bool Done, bool PaymentsDone, PageCursor? Payment, Guid? RecordOrganization, string? RecordKey, PageCursor? HighWater,
        DateTimeOffset? RecordHighWater, DateTimeOffset? Run, long Total);

    private async Task<Checkpoint> ReadCheckpointAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT completed_at IS NOT NULL, payments_done, checkpoint_created_at, checkpoint_transaction_id, checkpoint_record_organization_id, checkpoint_record_key, " +
            "high_water_created_at, high_water_transaction_id, high_water_record_created_at, started_at, total " +
            "FROM backfill_progress WHERE id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new Checkpoint(reader.GetBoolean(0), reader.GetBoolean(1),
            reader.IsDBNull(2) ? null : new PageCursor(reader.GetFieldValue<DateTimeOffset>(2), reader.GetGuid(3)),
            reader.IsDBNull(4) ? null : reader.GetGuid(4), reader.IsDBNull(5) ? null : reader.GetString(5),
            reader.IsDBNull(6) ? null : new PageCursor(reader.GetFieldValue<DateTimeOffset>(6), reader.GetGuid(7)),
            reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8), reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9), reader.GetInt64(10));
    }

    // Only into the run this instance read its checkpoint from. False when a rollback and a new start reset it meanwhile:
    // the loop then reads the new run's checkpoint (what this batch copied is harmless: copies are version-conditional).
    private async Task<bool> SaveAsync(DateTimeOffset? run, string assignments, object[] values, CancellationToken cancellationToken)
    {
        if (await RunCheckpoint.SaveAsync(dataSource, "backfill_progress", run, assignments, values, cancellationToken)) return true;
        logger.LogWarning("The backfill run this instance was copying was reset (rolled back and started again); carrying on with the new run");
        return false;
    }
}
