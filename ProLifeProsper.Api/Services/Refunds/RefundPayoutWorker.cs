using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Infrastructure.Telemetry;
using ProLifeProsper.Api.Infrastructure.Leases;

namespace ProLifeProsper.Api.Services.Refunds;

/// <summary>
/// Pays out refunds that were recorded but whose request was cut off before the processor paid them (a crash, a lost
/// connection to the processor) and whose client never retried. One instance at a time (the <c>refund-payouts</c> lease);
/// the processor pays a refund id once, so a pay-out the request did make costs nothing more.
/// </summary>
public sealed class RefundPayoutWorker(IServiceScopeFactory scopes, WorkerLeases leases, RefundPayouts payouts, IOptions<RefundPayoutOptions> options,
    ILogger<RefundPayoutWorker> logger) : SingleInstanceJob(leases, logger)
{
    protected override string LeaseName => "refund-payouts";

    protected override TimeSpan LeaseDuration => TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, options.Value.PollInterval.Ticks * 5));

    protected override TimeSpan Interval => options.Value.PollInterval;

    protected override Task<bool> HasWorkAsync(CancellationToken cancellationToken) => payouts.AnyDueAsync(cancellationToken);

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        using var work = BackgroundTracing.StartWork("refund payouts");
        await using var scope = scopes.CreateAsyncScope();
        var payments = scope.ServiceProvider.GetRequiredService<PaymentTransactionService>();
        while (await payments.FinishOwedPayoutsAsync(options.Value.BatchSize, cancellationToken) == options.Value.BatchSize
               && await RenewAsync(cancellationToken)) { }
    }
}
