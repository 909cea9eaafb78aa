using Microsoft.Extensions.Options;
using Npgsql;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Api.Infrastructure.Telemetry;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.Apis.Contracts;

namespace ProLifeProsper.Api.StoreMigration;

/// <summary>
/// Rolling back from <c>dynamo-only</c>: PostgreSQL missed every write since finalize, so all of DynamoDB (idempotency
/// records, then payments) is copied back, version-conditionally, page by page with a checkpoint after each page in
/// <c>reverse_copy_progress</c>, by whichever instance holds the <c>reverse-copy</c> lease: a crash, a restart or a store
/// error resumes from the last page, never from the start and never skipping one. Owed while the phase is
/// <c>dynamo-primary</c> with <c>finalized_at</c> still set (the rollback's switch to postgres clears it, and is refused
/// until the copy is complete). Each run is identified by its <c>started_at</c>: a holder that stalled past its lease cannot
/// write into a later run's checkpoint. It starts only after the fence: by then no write decided under <c>dynamo-only</c> can
/// still land in DynamoDB (see <see cref="RoutingStateOptions.DynamoOnlyFence"/>).
/// </summary>
public sealed class ReverseCopy(NpgsqlDataSource dataSource, DynamoDbPaymentTransactionStore dynamo, PaymentMirror mirror,
    RoutingStateCache routing, IOptions<MigrationOptions> options, ILogger<ReverseCopy> logger)
{
    public const string LeaseName = "reverse-copy";
    private const int PageSize = 200;
    private const int CopyParallelism = 8;

    /// <summary>True while the reverse copy, or the rollback it belongs to, is owed (this instance's view of the phase).</summary>
    public bool IsOwed => routing.Current is { Phase: MigrationPhase.DynamoPrimary, FinalizedAt: not null };

    /// <summary>Starts over, fenced: called inside the phase change from dynamo-only, under the exclusive routing lock.</summary>
    public static async Task ResetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, TimeSpan fence, CancellationToken cancellationToken)
    {
        await using var reset = new NpgsqlCommand(
            "UPDATE reverse_copy_progress SET payments_scan_key = NULL, records_done = false, records_scan_key = NULL, copied = 0, records_copied = 0, " +
            "fence_until = clock_timestamp() + $1, started_at = clock_timestamp(), completed_at = NULL WHERE id = 1", connection, transaction);
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
            using var work = BackgroundTracing.StartWork("reverse copy page");
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
                    try
                    {
                        if (await dynamo.FindIdempotencyRecordAsync(record.OrganizationId, record.Key, ct) is { } finished)
                            await mirror.CopyRecordAsync(finished, toDynamo: false, ct);
                    }
                    catch (DomainException e)
                    {
                        // A record whose change can neither be finished nor withdrawn (its payment is gone): copied as it is and
                        // reported, so one broken item cannot hold the rollback back forever.
                        logger.LogError("Idempotency record {Key} of organization {OrganizationId} could not be finished ({Problem}); copied as it stands",
                            record.Key, record.OrganizationId, e.Message);
                        await mirror.CopyRecordAsync(record, toDynamo: false, ct);
                    }
                });
                await SaveAsync(checkpoint.Run, "records_scan_key = $1, records_done = $2, records_copied = records_copied + $3",
                    [(object?)nextRecord ?? DBNull.Value, nextRecord is null, (long)records.Count], cancellationToken);
                continue;
            }

            var (payments, next) = await dynamo.ScanPaymentsAsync(checkpoint.PaymentsKey, PageSize, cancellationToken);
            await limiter.AcquireAsync(payments.Count, cancellationToken);
            await Parallel.ForEachAsync(payments, new ParallelOptions { MaxDegreeOfParallelism = CopyParallelism, CancellationToken = cancellationToken },
                async (payment, ct) => await mirror.CopyAsync(payment, toDynamo: false, ct));
            if (next is not null)
            {
                await SaveAsync(checkpoint.Run, "payments_scan_key = $1, copied = copied + $2", [next, (long)payments.Count], cancellationToken);
                continue;
            }

            // Done: PostgreSQL has everything DynamoDB had; the rollback may now switch to postgres (it clears finalized_at).
            await SaveAsync(checkpoint.Run, "copied = copied + $1, completed_at = now()", [(long)payments.Count], cancellationToken);
            logger.LogInformation("Reverse copy complete: PostgreSQL has every payment and idempotency record DynamoDB had");
            return true;
        }
        return false;
    }

    /// <summary>Whether the reverse copy of the current rollback is complete, read inside the routing change's transaction.</summary>
    public static async Task<bool> IsCompleteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT completed_at IS NOT NULL FROM reverse_copy_progress WHERE id = 1", connection, transaction);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    private sealed record Checkpoint(bool Done, bool RecordsDone, string? PaymentsKey, string? RecordsKey, TimeSpan FenceWait, DateTimeOffset? Run);

    private async Task<Checkpoint> ReadCheckpointAsync(CancellationToken cancellationToken)
    {
        // The fence is compared on PostgreSQL's clock, the one that set it.
        await using var command = dataSource.CreateCommand(
            "SELECT completed_at IS NOT NULL, records_done, payments_scan_key, records_scan_key, greatest(coalesce(fence_until, now()) - now(), interval '0'), started_at " +
            "FROM reverse_copy_progress WHERE id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new Checkpoint(reader.GetBoolean(0), reader.GetBoolean(1), reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetFieldValue<TimeSpan>(4), reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5));
    }

    // Only into the run this instance read its checkpoint from; if a later rollback reset it meanwhile, this page is dropped.
    private Task SaveAsync(DateTimeOffset? run, string assignments, object[] values, CancellationToken cancellationToken) =>
        RunCheckpoint.SaveAsync(dataSource, "reverse_copy_progress", run, assignments, values, cancellationToken);

    private static DateTimeOffset? Time(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}
