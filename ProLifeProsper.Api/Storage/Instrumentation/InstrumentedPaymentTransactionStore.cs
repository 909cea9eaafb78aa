using System.Diagnostics;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Storage.Instrumentation;

/// <summary>Wraps any payment store with a trace span and duration/error metrics per operation.</summary>
public sealed class InstrumentedPaymentTransactionStore(IPaymentTransactionStore inner, StoreMetrics metrics) : IPaymentTransactionStore
{
    public string Name => inner.Name;

    public IPaymentTransactionStore Inner => inner;

    public Task<IdempotencyRecord?> FindIdempotencyRecordAsync(Guid organizationId, string key, CancellationToken cancellationToken) =>
        MeasureAsync("find_idempotency_record", () => inner.FindIdempotencyRecordAsync(organizationId, key, cancellationToken));

    public Task<IdempotencyRecord> CreateAsync(PaymentTransaction payment, IdempotencyRecord record, CancellationToken cancellationToken) =>
        MeasureAsync("create", () => inner.CreateAsync(payment, record, cancellationToken));

    public Task<IdempotencyRecord?> UpdateAsync(PaymentTransaction updated, IdempotencyRecord? record, CancellationToken cancellationToken) =>
        MeasureAsync("update", () => inner.UpdateAsync(updated, record, cancellationToken));

    public Task<PaymentTransaction?> GetAsync(Guid organizationId, Guid transactionId, CancellationToken cancellationToken) =>
        MeasureAsync("get", () => inner.GetAsync(organizationId, transactionId, cancellationToken));

    public Task<PaymentPage> ListAsync(PaymentListQuery query, CancellationToken cancellationToken) =>
        MeasureAsync("list", () => inner.ListAsync(query, cancellationToken));

    public Task<IReadOnlyList<PaymentTransaction>> GetPendingAsync(DateTimeOffset createdBefore, int limit, CancellationToken cancellationToken) =>
        MeasureAsync("get_pending", () => inner.GetPendingAsync(createdBefore, limit, cancellationToken));

    public Task<IReadOnlyList<HourlyPaymentTotal>> GetHourlyTotalsAsync(Guid organizationId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        MeasureAsync("hourly_totals", () => inner.GetHourlyTotalsAsync(organizationId, from, to, cancellationToken));

    public Task<IReadOnlyDictionary<Guid, CampaignTotals>> GetCampaignTotalsAsync(Guid organizationId, IReadOnlyCollection<Guid> campaignIds, CancellationToken cancellationToken) =>
        MeasureAsync("campaign_totals", () => inner.GetCampaignTotalsAsync(organizationId, campaignIds, cancellationToken));

    private async Task<T> MeasureAsync<T>(string operation, Func<Task<T>> call)
    {
        using var activity = StoreMetrics.ActivitySource.StartActivity($"{inner.Name} {operation}", ActivityKind.Client);
        activity?.SetTag("db.system.name", inner.Name == "dynamodb" ? "aws.dynamodb" : "postgresql");
        activity?.SetTag("db.operation.name", operation);
        var started = Stopwatch.GetTimestamp();
        var failed = false;
        try
        {
            return await call();
        }
        catch (DomainException e)
        {
            // A broken rule (conflict, reused key) is an answer, not a store failure.
            activity?.SetTag("prolifeprosper.outcome", e.Code);
            throw;
        }
        catch (Exception e)
        {
            failed = true;
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
        finally
        {
            metrics.RecordOperation(inner.Name, operation, Stopwatch.GetElapsedTime(started), failed);
        }
    }
}
