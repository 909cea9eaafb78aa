using Microsoft.Extensions.Options;

namespace ProLifeProsper.Api.Services;

/// <summary>
/// Settles pending payments (oldest first) once they are older than the configured delay. Safe with
/// several replicas: each settlement is a conditional write on the payment's version.
/// </summary>
public sealed class PaymentSettlementWorker(IServiceScopeFactory scopes, IOptions<PaymentSettlementOptions> options, ILogger<PaymentSettlementWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled) return;
        using var timer = new PeriodicTimer(settings.PollInterval);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var payments = scope.ServiceProvider.GetRequiredService<PaymentTransactionService>();
                int settled;
                // Drain full batches at once; wait for the timer only when caught up.
                do settled = await payments.SettleDuePaymentsAsync(settings.Delay, settings.BatchSize, stoppingToken);
                while (settled == settings.BatchSize && !stoppingToken.IsCancellationRequested);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Settling pending payments failed; retrying on the next tick");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
