using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.Instrumentation;
using ProLifeProsper.Api.Storage.PostgreSql;
using Npgsql;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Routing;

/// <summary>
/// The database router's payment store: every call goes to the store(s) the current migration phase names.
/// <list type="bullet">
/// <item><c>postgres</c>: PostgreSQL, each write checked against the routing version in its own transaction.</item>
/// <item><c>dual-write</c>, <c>backfill</c>, <c>verify</c>: PostgreSQL is the source of truth; each write also records an
/// outbox row in the same transaction, which carries it to DynamoDB.</item>
/// <item><c>dynamo-primary</c>: the intent is recorded in the PostgreSQL outbox first, then written to DynamoDB, then
/// copied to PostgreSQL (or, after a crash, by the outbox drainer), so rollback finds every acknowledged write.</item>
/// <item><c>dynamo-only</c>: DynamoDB.</item>
/// </list>
/// A write that finds the routing version moved on is re-run under the new phase. A write starts only on a view of the
/// phase younger than <see cref="RoutingStateOptions.RoutingLease"/>, and a <c>dynamo-only</c> write is abandoned after
/// <see cref="DynamoDbOptions.WriteTimeout"/>, so a rollback knows when the last write decided under the old phase is over.
/// </summary>
public sealed class RoutedPaymentTransactionStore(
    PostgreSqlPaymentTransactionStore postgres,
    DynamoDbPaymentTransactionStore dynamo,
    RoutingStateCache routing,
    PaymentOutbox outbox,
    StoreMetrics metrics,
    PaymentsStoreGuard guard,
    Microsoft.Extensions.Options.IOptions<DynamoDbOptions> dynamoOptions,
    ILogger<RoutedPaymentTransactionStore> logger) : IPaymentTransactionStore
{
    private const int MaxRoutingRetries = 5;

    public string Name => Primary.Name;

    private IPaymentTransactionStore Primary => routing.Current.Phase.DynamoIsPrimary() ? dynamo : postgres;

    /// <summary>The checks every write makes before it starts: a fresh enough view of the phase, and a store that has its data.</summary>
    public async Task EnsureWritableAsync(CancellationToken cancellationToken)
    {
        var state = await routing.CurrentForWriteAsync(cancellationToken);
        guard.ThrowIfUnsafe(state);
        // A write DynamoDB takes in the request needs its shard map: read it before the donor is charged, not after.
        if (state.Phase.DynamoIsPrimary()) await dynamo.EnsureWritableAsync(cancellationToken);
    }

    public Task<IdempotencyRecord?> FindIdempotencyRecordAsync(Guid organizationId, string key, CancellationToken cancellationToken) =>
        ReadAsync("find_idempotency_record", s => s.FindIdempotencyRecordAsync(organizationId, key, cancellationToken));

    public Task<PaymentTransaction?> GetAsync(Guid organizationId, Guid transactionId, CancellationToken cancellationToken) =>
        ReadAsync("get", s => s.GetAsync(organizationId, transactionId, cancellationToken));

    public Task<Page<PaymentTransaction>> ListAsync(PaymentListQuery query, CancellationToken cancellationToken) =>
        ReadAsync("list", s => s.ListAsync(query, cancellationToken));

    public Task<IReadOnlyList<PaymentTransaction>> GetPendingAsync(DateTimeOffset createdBefore, PageCursor? after, int limit, CancellationToken cancellationToken) =>
        ReadAsync("get_pending", s => s.GetPendingAsync(createdBefore, after, limit, cancellationToken));

    public Task<IReadOnlyList<HourlyPaymentTotal>> GetHourlyTotalsAsync(Guid organizationId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        ReadAsync("hourly_totals", s => s.GetHourlyTotalsAsync(organizationId, from, to, cancellationToken));

    public Task<IReadOnlyDictionary<Guid, CampaignTotals>> GetCampaignTotalsAsync(Guid organizationId, IReadOnlyCollection<Guid> campaignIds, CancellationToken cancellationToken) =>
        ReadAsync("campaign_totals", s => s.GetCampaignTotalsAsync(organizationId, campaignIds, cancellationToken));

    public Task<IdempotencyRecord> CreateAsync(PaymentTransaction payment, IdempotencyRecord record, CancellationToken requestToken) =>
        WriteAsync(async (state, cancellationToken) =>
        {
            switch (state.Phase)
            {
                case MigrationPhase.DynamoOnly:
                    return await metrics.MeasureAsync(dynamo.Name, "create", () => dynamo.CreateAsync(payment, record, cancellationToken));
                case MigrationPhase.DynamoPrimary:
                    var intent = await outbox.RecordIntentAsync(state.Version, payment, record.Key, payment.Version, cancellationToken);
                    var stored = await DynamoFirstAsync(intent, hasRecord: true,
                        () => metrics.MeasureAsync(dynamo.Name, "create", () => dynamo.CreateAsync(payment, record, cancellationToken)));
                    // Ours, or the payment an earlier request with this key made (which finding its record may just have completed).
                    var ours = stored.ResourceId == payment.TransactionId;
                    await ShadowNowAsync(intent, ours ? payment : null, payment.OrganizationId, stored.ResourceId, stored, cancellationToken);
                    return stored;
                default:
                    var (inEffect, outboxId) = await metrics.MeasureAsync(postgres.Name, "create",
                        () => postgres.CreateAsync(payment, record, Guard(state), cancellationToken));
                    if (outboxId is not null) outbox.Wake();
                    return inEffect;
            }
        }, requestToken);

    public Task<IdempotencyRecord?> UpdateAsync(PaymentTransaction updated, IdempotencyRecord? record, CancellationToken requestToken) =>
        WriteAsync(async (state, cancellationToken) =>
        {
            switch (state.Phase)
            {
                case MigrationPhase.DynamoOnly:
                    return await metrics.MeasureAsync(dynamo.Name, "update", () => dynamo.UpdateAsync(updated, record, cancellationToken));
                case MigrationPhase.DynamoPrimary:
                    var intent = await outbox.RecordIntentAsync(state.Version, updated, record?.Key, updated.Version, cancellationToken);
                    var stored = await DynamoFirstAsync(intent, hasRecord: record is not null,
                        () => metrics.MeasureAsync(dynamo.Name, "update", () => dynamo.UpdateAsync(updated, record, cancellationToken)));
                    // Applied by us, or a replay of the key's earlier change: then copy the payment as DynamoDB has it now.
                    var applied = record is null || stored?.ResourceId == record.ResourceId;
                    await ShadowNowAsync(intent, applied ? updated : null, updated.OrganizationId, updated.TransactionId, stored, cancellationToken);
                    return stored;
                default:
                    var (inEffect, outboxId) = await metrics.MeasureAsync(postgres.Name, "update",
                        () => postgres.UpdateAsync(updated, record, Guard(state), cancellationToken));
                    if (outboxId is not null) outbox.Wake();
                    return inEffect;
            }
        }, requestToken);

    private static PostgreSqlWriteGuard Guard(RoutingState state) =>
        new(state.Version, state.Phase.Mirrors() ? DynamoDbPaymentTransactionStore.StoreName : null);

    /// <summary>
    /// DynamoDB primary: runs the DynamoDB write behind its intent. The intent is withdrawn only when the write
    /// certainly wrote nothing (the store refused it outright). Any other failure — a time-out or a lost answer after
    /// the write was applied, a throttle that outlived its retries, the client going away — may have written: the
    /// intent stays, and the outbox drainer reconciles it from what DynamoDB holds.
    /// </summary>
    private async Task<T> DynamoFirstAsync<T>(long intent, bool hasRecord, Func<Task<T>> write)
    {
        try
        {
            return await write();
        }
        catch (DomainException e) when (NothingWritten(e, hasRecord))
        {
            try
            {
                await outbox.DeleteAsync(intent, CancellationToken.None);
            }
            catch (Exception cleanup) when (cleanup is NpgsqlException or TimeoutException)
            {
                logger.LogWarning(cleanup, "Could not withdraw intent {Intent}; the outbox drainer will", intent);
            }
            throw;
        }
    }

    // A keyed write that lost its race withdrew its record: nothing of it stands. A settlement (no key) that reports a
    // conflict may have been applied by a retry of a call whose answer was lost, so it is reconciled, not trusted.
    private static bool NothingWritten(DomainException e, bool hasRecord) => hasRecord || e.Code != DomainErrors.ConcurrentUpdate().Code;

    /// <summary>
    /// DynamoDB primary: copies the payment as it now stands (<paramref name="known"/> when this write made it, otherwise
    /// read back from DynamoDB) and the idempotency record in effect to PostgreSQL and clears the intent, in one commit. If
    /// that fails the intent stays and the drainer finishes the copy; the write is acknowledged either way.
    /// </summary>
    private async Task ShadowNowAsync(long intent, PaymentTransaction? known, Guid organizationId, Guid transactionId, IdempotencyRecord? record,
        CancellationToken cancellationToken)
    {
        try
        {
            await postgres.ShadowAsync(known ?? await dynamo.GetAsync(organizationId, transactionId, cancellationToken), record, intent, cancellationToken);
        }
        catch (Exception e)
        {
            // Even when the client went away: the write is done and acknowledged to the caller (a refund still pays out);
            // the intent stays and the drainer finishes the copy.
            logger.LogWarning(e, "Shadow copy to PostgreSQL deferred to the outbox (row {Intent})", intent);
            outbox.Wake();
        }
    }

    private async Task<T> WriteAsync<T>(Func<RoutingState, CancellationToken, Task<T>> write, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var state = await routing.CurrentForWriteAsync(cancellationToken);
            guard.ThrowIfUnsafe(state);
            try
            {
                if (!state.Phase.DynamoIsPrimary()) return await write(state, cancellationToken);
                // A DynamoDB-first write is bounded in time: under dynamo-only nothing in PostgreSQL checks it against the
                // phase, and a rollback's fence counts on none landing later than this; under dynamo-primary its intent must
                // outlive it (Migration:IntentGrace).
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(dynamoOptions.Value.WriteTimeout);
                try
                {
                    return await write(state, deadline.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"The DynamoDB write did not finish within {dynamoOptions.Value.WriteTimeout.TotalSeconds:0.#} s; retry it with the same Idempotency-Key.");
                }
            }
            catch (StaleRoutingException) when (attempt < MaxRoutingRetries)
            {
                // The phase changed under this write: nothing was written; adopt the new phase and write again.
                await routing.RefreshAsync(cancellationToken);
            }
        }
    }

    private Task<T> ReadAsync<T>(string operation, Func<IPaymentTransactionStore, Task<T>> read)
    {
        guard.ThrowIfUnsafe(routing.Current);
        var store = Primary;
        return metrics.MeasureAsync(store.Name, operation, () => read(store));
    }
}
