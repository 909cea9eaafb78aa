using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Infrastructure.Telemetry;
using ProLifeProsper.Api.Routing;

namespace ProLifeProsper.Api.StoreMigration;

/// <summary>
/// Drains the outbox on every instance (rows are claimed under a lease, so instances share the work): woken after
/// each mirrored write (<see cref="PaymentOutbox.Wake"/>) and otherwise polling. A shadow store that is down leaves its
/// rows in place, retried with backoff; they are never dropped.
/// </summary>
public sealed class OutboxDrainer(PaymentOutbox outbox, PaymentMirror mirror, IOptions<MigrationOptions> options,
    MigrationMetrics metrics, ILogger<OutboxDrainer> logger) : BackgroundService
{
    private const int BatchSize = 200;
    private const int Claims = 4;
    // The depth gauge is read by people and dashboards: once a second is enough, not after every woken drain.
    private const long DepthRefreshMilliseconds = 1_000;
    private readonly OutboxApply _apply = new(mirror.ApplyAsync, mirror.ApplyNewPaymentsAsync);

    /// <summary>
    /// Drains the rows there now (up to <paramref name="upTo"/>, default the newest) until none of them is due (or the token
    /// ends); with <paramref name="ignoreBackoff"/>, rows waiting out a retry delay are tried now too. Returns the rows applied.
    /// </summary>
    public async Task<int> DrainNowAsync(string? target, CancellationToken cancellationToken, bool ignoreBackoff = false, long? upTo = null)
    {
        var last = upTo ?? await outbox.LastIdAsync(cancellationToken);
        var total = 0;
        int applied;
        do
        {
            // Several claims at once (leases keep them apart): a drain that waits on one round trip at a time gets
            // little of a machine busy with requests, and falls behind the writes it is meant to follow.
            var claims = await Task.WhenAll(Enumerable.Range(0, Claims).Select(_ =>
                outbox.DrainAsync(_apply, target, BatchSize, cancellationToken, last, ignoreBackoff)));
            total += applied = claims.Sum();
            logger.LogDebug("Drained {Applied} outbox rows (up to {UpTo})", applied, last);
        }
        while (applied > 0 && !cancellationToken.IsCancellationRequested);
        return total;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long? depthObservedAt = null;
        using var quiet = BackgroundTracing.Quiet(); // a drain that finds rows traces itself (PaymentOutbox.DrainAsync)
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await DrainNowAsync(null, stoppingToken) > 0) await Task.Delay(options.Value.OutboxBatchWindow, stoppingToken);
                if (depthObservedAt is not { } at || Environment.TickCount64 - at >= DepthRefreshMilliseconds)
                {
                    metrics.ObserveOutboxDepth(await outbox.DepthAsync(stoppingToken));
                    depthObservedAt = Environment.TickCount64;
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Draining the payment outbox failed; retrying");
            }
            await outbox.WaitForWakeAsync(options.Value.OutboxPollInterval, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
