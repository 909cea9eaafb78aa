using Microsoft.Extensions.Options;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Api.Infrastructure.Leases;

namespace ProLifeProsper.Api.Services;

/// <summary>
/// Settles pending payments once they are older than the configured delay. One instance works at a time (the
/// <c>settlement</c> lease), so the processor is asked once per payment and pass, not once per replica; if it dies, another
/// takes over when the lease expires. Each pass pages through the whole backlog, oldest first, so payments the processor
/// keeps pending never block the ones behind them.
/// </summary>
public sealed class PaymentSettlementWorker(IServiceScopeFactory scopes, WorkerLeases leases, TimeProvider time,
    IOptions<PaymentSettlementOptions> options, ILogger<PaymentSettlementWorker> logger) : SingleInstanceJob(leases, logger)
{
    private readonly PaymentSettlementOptions _settings = options.Value;

    protected override string LeaseName => "settlement";

    // Long enough to outlive a slow page, short enough that a dead holder is replaced quickly.
    protected override TimeSpan LeaseDuration => TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(10).Ticks, _settings.PollInterval.Ticks * 5));

    protected override TimeSpan Interval => _settings.PollInterval;

    protected override Task<bool> HasWorkAsync(CancellationToken cancellationToken) => Task.FromResult(_settings.Enabled);

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var payments = scope.ServiceProvider.GetRequiredService<PaymentTransactionService>();
        var createdBefore = UtcClock.Now(time) - _settings.Delay;
        PageCursor? cursor = null;
        do (_, cursor) = await payments.SettlePendingPageAsync(createdBefore, cursor, _settings.BatchSize, cancellationToken);
        while (cursor is not null && await RenewAsync(cancellationToken));
    }
}
