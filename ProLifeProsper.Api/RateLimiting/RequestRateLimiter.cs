using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace ProLifeProsper.Api.RateLimiting;

/// <summary>
/// The request budgets (token buckets from <c>System.Threading.RateLimiting</c>) per organization, for the admin key, and per
/// client address for requests without a valid key. ASP.NET Core's rate-limiting middleware spends them after
/// authentication (<see cref="Global"/>); authentication asks <see cref="MayLookUpKeys"/> before it looks an unknown key up
/// in the database. Idle buckets are dropped by the limiter, so memory follows the active clients.
/// </summary>
public sealed class RequestRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<RequestPartition> _byPartition;

    public RequestRateLimiter(IOptionsMonitor<RateLimitOptions> options)
    {
        _byPartition = PartitionedRateLimiter.Create<RequestPartition, RequestPartition>(partition =>
            RateLimitPartition.GetTokenBucketLimiter(partition, p =>
            {
                var limits = options.CurrentValue;
                return (p.Kind switch
                {
                    RequestPartition.Kinds.Organization => limits.PerOrganization,
                    RequestPartition.Kinds.Admin => limits.Admin,
                    _ => limits.PerClientAddress,
                }).ToLimiterOptions();
            }));
        Global = _byPartition.WithTranslatedKey<HttpContext>(RequestPartition.Of, leaveOpen: true);
    }

    /// <summary>The limiter for <see cref="Microsoft.AspNetCore.RateLimiting.RateLimiterOptions.GlobalLimiter"/>: one permit per request.</summary>
    public PartitionedRateLimiter<HttpContext> Global { get; }

    /// <summary>
    /// Whether the request's client address has budget left for requests without a valid key (spends nothing: the request
    /// spends its permit in the middleware). When it has none, an unknown key is not looked up: a flood of made-up keys
    /// costs the database nothing once its budget is gone.
    /// </summary>
    /// <remarks>
    /// Read from the bucket's statistics: a zero-permit acquire is no test here, because token buckets refill by fractions
    /// and succeed it as soon as a fraction of a token is back, while a request needs a whole one.
    /// </remarks>
    public bool MayLookUpKeys(HttpContext context) =>
        _byPartition.GetStatistics(RequestPartition.ForAddress(context)) is not { CurrentAvailablePermits: < 1 };

    public void Dispose()
    {
        Global.Dispose();
        _byPartition.Dispose();
    }
}
