using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.Instrumentation;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.PaymentMigration;

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
/// A write that finds the routing version moved on is re-run under the new phase.
/// </summary>
public sealed class RoutedPaymentTransactionStore(
    PostgreSqlPaymentTransactionStore postgres,
    DynamoDbPaymentTransactionStore dynamo,
    RoutingStateCache routing,
    PaymentOutbox outbox,
    PaymentMirror mirror,
    OutboxDrainer drainer,
    StoreMetrics metrics,
    ILogger<RoutedPaymentTransactionStore> logger) : IPaymentTransactionStore
{
    private const int MaxRoutingRetries = 5;

    public string Name => Primary.Name;

    private IPaymentTransactionStore Primary => routing.Current.Phase.DynamoIsPrimary() ? dynamo : postgres;

    public Task<IdempotencyRecord?> FindIdempotencyRecordAsync(Guid organizationId, string key, CancellationToken cancellationToken) =>
        ReadAsync("find_idempotency_record", s => s.FindIdempotencyRecordAsync(organizationId, key, cancellationToken));

    public Task<PaymentTransaction?> GetAsync(Guid organizationId, Guid transactionId, CancellationToken cancellationToken) =>
        ReadAsync("get", s => s.GetAsync(organizationId, transactionId, cancellationToken));

    public Task<PaymentPage> ListAsync(PaymentListQuery query, CancellationToken cancellationToken) =>
        ReadAsync("list", s => s.ListAsync(query, cancellationToken));

    public Task<IReadOnlyList<PaymentTransaction>> GetPendingAsync(DateTimeOffset createdBefore, int limit, CancellationToken cancellationToken) =>
        ReadAsync("get_pending", s => s.GetPendingAsync(createdBefore, limit, cancellationToken));

    public Task<IReadOnlyList<HourlyPaymentTotal>> GetHourlyTotalsAsync(Guid organizationId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        ReadAsync("hourly_totals", s => s.GetHourlyTotalsAsync(organizationId, from, to, cancellationToken));

    public Task<IReadOnlyDictionary<Guid, CampaignTotals>> GetCampaignTotalsAsync(Guid organizationId, IReadOnlyCollection<Guid> campaignIds, CancellationToken cancellationToken) =>
        ReadAsync("campaign_totals", s => s.GetCampaignTotalsAsync(organizationId, campaignIds, cancellationToken));

    public Task<IdempotencyRecord> CreateAsync(PaymentTransaction payment, IdempotencyRecord record, CancellationToken cancellationToken) =>
        WriteAsync(async state =>
        {
            switch (state.Phase)
            {
                case MigrationPhase.DynamoOnly:
                    return await metrics.MeasureAsync(dynamo.Name, "create", () => dynamo.CreateAsync(payment, record, cancellationToken));
                case MigrationPhase.DynamoPrimary:
                    var intent = await outbox.RecordIntentAsync(state.Version, payment, record.Key, payment.Version, cancellationToken);
                    var stored = await metrics.MeasureAsync(dynamo.Name, "create", () => dynamo.CreateAsync(payment, record, cancellationToken));
                    await ShadowNowAsync(intent, stored.ResourceId == payment.TransactionId ? payment : null, stored, cancellationToken);
                    return stored;
                default:
                    var (inEffect, outboxId) = await metrics.MeasureAsync(postgres.Name, "create",
                        () => postgres.CreateAsync(payment, record, Guard(state), cancellationToken));
                    if (outboxId is not null) drainer.Wake();
                    return inEffect;
            }
        }, cancellationToken);

    public Task<IdempotencyRecord?> UpdateAsync(PaymentTransaction updated, IdempotencyRecord? record, CancellationToken cancellationToken) =>
        WriteAsync(async state =>
        {
            switch (state.Phase)
            {
                case MigrationPhase.DynamoOnly:
                    return await metrics.MeasureAsync(dynamo.Name, "update", () => dynamo.UpdateAsync(updated, record, cancellationToken));
                case MigrationPhase.DynamoPrimary:
                    var intent = await outbox.RecordIntentAsync(state.Version, updated, record?.Key, updated.Version, cancellationToken);
                    IdempotencyRecord? stored;
                    try
                    {
                        stored = await metrics.MeasureAsync(dynamo.Name, "update", () => dynamo.UpdateAsync(updated, record, cancellationToken));
                    }
                    catch
                    {
                        await outbox.DeleteAsync(intent, CancellationToken.None); // nothing was written
                        throw;
                    }
                    var applied = record is null || stored?.ResourceId == record.ResourceId;
                    await ShadowNowAsync(intent, applied ? updated : null, stored, cancellationToken);
                    return stored;
                default:
                    var (inEffect, outboxId) = await metrics.MeasureAsync(postgres.Name, "update",
                        () => postgres.UpdateAsync(updated, record, Guard(state), cancellationToken));
                    if (outboxId is not null) drainer.Wake();
                    return inEffect;
            }
        }, cancellationToken);

    private static PostgreSqlWriteGuard Guard(RoutingState state) =>
        new(state.Version, state.Phase.Mirrors() ? DynamoDbPaymentTransactionStore.StoreName : null);

    /// <summary>
    /// DynamoDB primary: copies what was just written to PostgreSQL and clears the intent. If PostgreSQL is
    /// unreachable the intent stays and the drainer finishes the copy; the write is acknowledged either way.
    /// </summary>
    private async Task ShadowNowAsync(long intent, PaymentTransaction? written, IdempotencyRecord? record, CancellationToken cancellationToken)
    {
        try
        {
            if (written is not null)
            {
                await mirror.CopyAsync(written, toDynamo: false, cancellationToken);
                if (record is not null) await mirror.CopyRecordAsync(record, toDynamo: false, cancellationToken);
            }
            await outbox.DeleteAsync(intent, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Shadow copy to PostgreSQL deferred to the outbox (row {Intent})", intent);
            drainer.Wake();
        }
    }

    private async Task<T> WriteAsync<T>(Func<RoutingState, Task<T>> write, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var state = routing.Current;
            try
            {
                return await write(state);
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
        var store = Primary;
        return metrics.MeasureAsync(store.Name, operation, () => read(store));
    }
}
