using System.Threading.RateLimiting;

namespace ProLifeProsper.Api.StoreMigration;

/// <summary>
/// Caps a bulk copy between the stores (backfill, reverse copy) at <c>Migration:BackfillItemsPerSecond</c>, so copying
/// history cannot starve live traffic of either store's capacity.
/// </summary>
public sealed class CopyRateLimiter(int perSecond) : IDisposable
{
    private readonly int _bucket = Math.Max(1, perSecond);
    private readonly TokenBucketRateLimiter _limiter = new(Bucket(perSecond));

    /// <summary>A token bucket refilled ten times a second, that queues rather than refuses.</summary>
    public static TokenBucketRateLimiterOptions Bucket(int perSecond) => new()
    {
        TokenLimit = Math.Max(1, perSecond),
        TokensPerPeriod = Math.Max(1, perSecond / 10),
        ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
        QueueLimit = int.MaxValue,
        AutoReplenishment = true,
    };

    /// <summary>Waits for one token per item (at most a bucket's worth at a time).</summary>
    public async Task AcquireAsync(int count, CancellationToken cancellationToken)
    {
        for (var remaining = count; remaining > 0;)
        {
            var take = Math.Min(remaining, _bucket);
            using var lease = await _limiter.AcquireAsync(take, cancellationToken);
            remaining -= take;
        }
    }

    public void Dispose() => _limiter.Dispose();
}
