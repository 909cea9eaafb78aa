using ProLifeProsper.Api.Errors;

namespace ProLifeProsper.Api.Capacity;

/// <summary>
/// One capacity plan at a time per instance: a plan's partition-heat simulation takes seconds of CPU on the cores that
/// serve payments, and the admin key's request budget would let thousands start at once. Another plan meanwhile is
/// answered 429 with a short wait.
/// </summary>
public sealed class CapacityPlanGate : IDisposable
{
    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>A plan is being computed (for tests).</summary>
    internal bool Busy => _one.CurrentCount == 0;

    public CapacityPlan Plan(TrafficProfile profile, CancellationToken cancellationToken)
    {
        if (!_one.Wait(0))
            throw new RateLimitedException("rate-limited", "Too many requests.", "A capacity plan is being computed on this instance; retry shortly.", TimeSpan.FromSeconds(5));
        try
        {
            return CapacityPlanner.Plan(profile, cancellationToken: cancellationToken);
        }
        finally
        {
            _one.Release();
        }
    }

    public void Dispose() => _one.Dispose();
}
