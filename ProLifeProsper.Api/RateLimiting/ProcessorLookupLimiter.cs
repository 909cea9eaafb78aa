using System.Threading.RateLimiting;

namespace ProLifeProsper.Api.RateLimiting;

/// <summary>
/// A budget per organization for asking the processor about a key's charge on behalf of a refused request (a 429 for card
/// testing, a campaign closed since): that look-up heals a retry whose first answer was lost, but every refusal would
/// otherwise cost a processor call, and a processor limits those per account, so one tenant scripting against a closed
/// campaign could slow every tenant's charges. Over budget the request is answered 429 (retry shortly), not refused for good.
/// </summary>
public sealed class ProcessorLookupLimiter : IDisposable
{
    /// <summary>Look-ups per organization: a burst of 20, then 5 a second. A retry after a lost answer needs one.</summary>
    public static readonly TokenBucketRateLimiterOptions Budget = new()
    {
        TokenLimit = 20, TokensPerPeriod = 5, ReplenishmentPeriod = TimeSpan.FromSeconds(1), QueueLimit = 0, AutoReplenishment = true,
    };

    private readonly PartitionedRateLimiter<(Guid, Guid)> _limiter = PartitionedRateLimiter.Create<(Guid, Guid), (Guid, Guid)>(subject =>
        RateLimitPartition.GetTokenBucketLimiter(subject, _ => Budget));

    /// <summary>
    /// Takes one look-up from the budget, if it has one left: the organization's, or, for a donor refused by the card-testing
    /// limit, that donor's own (a card tester's refusals must not spend what other donors' retries need).
    /// </summary>
    public bool TryTake(Guid organizationId, Guid? refusedDonorId = null)
    {
        using var lease = _limiter.AttemptAcquire((organizationId, refusedDonorId ?? Guid.Empty));
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}
