using Microsoft.Extensions.Options;
using Npgsql;
using ProLifeProsper.Api.Storage.DynamoDb;

namespace ProLifeProsper.Api.PaymentMigration;

/// <summary>Reverse-copy progress as operators see it.</summary>
public sealed record ReverseCopyProgress(long Copied, long RecordsCopied, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, DateTimeOffset? FenceUntil)
{
    public bool IsComplete => CompletedAt is not null;
}

/// <summary>
/// Rolling back from <c>dynamo-only</c>: PostgreSQL missed every write since finalize, so all of DynamoDB (idempotency
/// records, then payments) is copied back, version-conditionally, page by page with a checkpoint after each page in
/// <c>reverse_copy_progress</c>, by whichever instance holds the <c>reverse-copy</c> lease: a crash, a restart or a store
/// error resumes from the last page, never from the start and never skipping one. Owed while the phase is
/// <c>dynamo-primary</c> with <c>finalized_at</c> still set; done clears it. It starts only after the fence: by then
/// no write decided under <c>dynamo-only</c> can still land in DynamoDB (see <see cref="MigrationOptions.DynamoOnlyFence"/>).
/// </summary>
public sealed class ReverseCopy(NpgsqlDataSource dataSource, DynamoDbPaymentTransactionStore dynamo, PaymentMirror mirror,
    RoutingStateCache routing, IOptions<MigrationOptions> options, ILogger<ReverseCopy> logger)
{
    public const string LeaseName = "reverse-copy";
    private const int PageSize = 200;
    private const int CopyParallelism = 8;

    /// <summary>True while the reverse copy is owed (the state it reads is this instance's view).</summary>
    public bool IsOwed => routing.Current is { Phase: MigrationPhase.DynamoPrimary, FinalizedAt: not null };

    /// <summary>Starts over, fenced: called inside the phase change from dynamo-only, under the exclusive routing lock.</summary>
    public static async Task ResetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, TimeSpan fence, CancellationToken cancellationToken)
    {
        await using var reset = new NpgsqlCommand(
            "UPDATE reverse_copy_progress SET payments_scan_key = NULL, records_done = false, records_scan_key = NULL, copied = 0, records_copied = 0, " +
            "fence_until = now() + $1, started_at = now(), completed_at = NULL WHERE id = 1", connection, transaction);
        reset.Parameters.Add(new() { Value = fence });
        await reset.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<ReverseCopyProgress> ReadProgressAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT copied, records_copied, started_at, completed_at, fence_until FROM reverse_copy_progress WHERE id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return new ReverseCopyProgress(0, 0, null, null, null);
        return new ReverseCopyProgress(reader.GetInt64(0), reader.GetInt64(1), Time(reader, 2), Time(reader, 3), Time(reader, 4));
    }

    /// <summary>Copies (or resumes copying) until done, no longer owed, the lease is lost or the token ends. True when complete.</summary>
    public async Task<bool> RunAsync(Func<CancellationToken, Task<bool>> renew, CancellationToken cancellationToken)
    {
        using var limiter = new CopyRateLimiter(options.Value.BackfillItemsPerSecond);
        while (IsOwed && await renew(cancellationToken))
        {
            var checkpoint = await ReadCheckpointAsync(cancellationToken);
            if (checkpoint.Done) return true;
            if (checkpoint.FenceWait > TimeSpan.Zero)
            {
                await Task.Delay(checkpoint.FenceWait < TimeSpan.FromSeconds(1) ? checkpoint.FenceWait : TimeSpan.FromSeconds(1), cancellationToken);
                continue;
            }

            // Records first, each finished as a retry with its key would finish it (a write cut off between its two steps
            // under dynamo-only has no intent to bring it home), so the payments pass that follows sees every change.
            if (!checkpoint.RecordsDone)
            {
                var (records, nextRecord) = await dynamo.ScanIdempotencyRecordsAsync(checkpoint.RecordsKey, PageSize, cancellationToken);
                await limiter.AcquireAsync(records.Count, cancellationToken);
                await Parallel.ForEachAsync(records, new ParallelOptions { MaxDegreeOfParallelism = CopyParallelism, CancellationToken = cancellationToken }, async (record, ct) =>
                {
                    if (await dynamo.FindIdempotencyRecordAsync(record.OrganizationId, record.Key, ct) is { } finished)
                        await mirror.CopyRecordAsync(finished, toDynamo: false, ct);
                });
                await SaveAsync("records_scan_key = $1, records_done = $2, records_copied = records_copied + $3",
                    [(object?)nextRecord ?? DBNull.Value, nextRecord is null, (long)records.Count], cancellationToken);
                continue;
            }

            var (payments, next) = await dynamo.ScanPaymentsAsync(checkpoint.PaymentsKey, PageSize, cancellationToken);
            await limiter.AcquireAsync(payments.Count, cancellationToken);
            await Parallel.ForEachAsync(payments, new ParallelOptions { MaxDegreeOfParallelism = CopyParallelism, CancellationToken = cancellationToken },
                async (payment, ct) => await mirror.CopyAsync(payment, toDynamo: false, ct));
            if (next is not null)
            {
                await SaveAsync("payments_scan_key = $1, copied = copied + $2", [next, (long)payments.Count], cancellationToken);
                continue;
            }

            // Done: PostgreSQL has everything DynamoDB had; the rollback may now finish.
            await using var batch = dataSource.CreateBatch();
            var done = new NpgsqlBatchCommand("UPDATE reverse_copy_progress SET copied = copied + $1, completed_at = now() WHERE id = 1");
            done.Parameters.Add(new() { Value = (long)payments.Count });
            batch.BatchCommands.Add(done);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("UPDATE routing_state SET finalized_at = NULL WHERE id = 1 AND phase = 'dynamo-primary'"));
            await batch.ExecuteNonQueryAsync(cancellationToken);
            await routing.RefreshAsync(cancellationToken);
            logger.LogInformation("Reverse copy complete: PostgreSQL has every payment and idempotency record DynamoDB had");
            return true;
        }
        return false;
    }

    private sealed record Checkpoint(bool Done, bool RecordsDone, string? PaymentsKey, string? RecordsKey, TimeSpan FenceWait);

    private async Task<Checkpoint> ReadCheckpointAsync(CancellationToken cancellationToken)
    {
        // The fence is compared on PostgreSQL's clock, the one that set it.
        await using var command = dataSource.CreateCommand(
            "SELECT completed_at IS NOT NULL, records_done, payments_scan_key, records_scan_key, greatest(coalesce(fence_until, now()) - now(), interval '0') " +
            "FROM reverse_copy_progress WHERE id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new Checkpoint(reader.GetBoolean(0), reader.GetBoolean(1), reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetFieldValue<TimeSpan>(4));
    }

    private async Task SaveAsync(string assignments, object[] values, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"UPDATE reverse_copy_progress SET {assignments} WHERE id = 1");
        foreach (var value in values) command.Parameters.Add(new() { Value = value });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static DateTimeOffset? Time(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}
