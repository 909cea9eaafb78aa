using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Errors;

namespace ProLifeProsper.Api.RateLimiting;

/// <summary>
/// Card-testing defence: counts failed charges per donor and per organization, and once either has had its limit of failures
/// within the window, refuses further payment attempts for it (429) before the processor is asked. Only donors and
/// organizations with a recent failure are tracked (a bounded cache), so the check on every payment is one look-up.
/// </summary>
/// <remarks>
/// Counted by hand rather than with <c>System.Threading.RateLimiting</c>: its limiters time windows on the stopwatch (this
/// one follows the API's <see cref="TimeProvider"/>, so its Retry-After is exact and tests can move the clock), and keeping
/// one per donor on every payment would cost more than the count itself.
/// </remarks>
public sealed class FailedPaymentLimiter : IDisposable
{
    private readonly IOptionsMonitor<RateLimitOptions> _options;
    private readonly TimeProvider _time;
    private readonly MemoryCache _windows;

    public FailedPaymentLimiter(IOptionsMonitor<RateLimitOptions> options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _windows = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.CurrentValue.FailureTrackingSize });
    }

    // Guid.Empty as the donor: the organization's own count.
    private readonly record struct Subject(Guid OrganizationId, Guid DonorId);

    private sealed class Window
    {
        public DateTimeOffset Start;
        public int Failures;
    }

    /// <summary>Throws <see cref="RateLimitedException"/> when the donor or the organization has had too many failed charges lately.</summary>
    public void EnsureMayAttempt(Guid organizationId, Guid donorId)
    {
        var limits = _options.CurrentValue;
        var now = _time.GetUtcNow();
        if (BlockedFor(new Subject(organizationId, donorId), limits.FailedPaymentsPerDonor, now) is { } donorWait)
            throw RateLimitedException.FailedPayments("this donor", limits.FailedPaymentsPerDonor, donorWait);
        if (BlockedFor(new Subject(organizationId, Guid.Empty), limits.FailedPaymentsPerOrganization, now) is { } organizationWait)
            throw RateLimitedException.FailedPayments("this organization", limits.FailedPaymentsPerOrganization, organizationWait);
    }

    /// <summary>Counts one failed charge against the donor and the organization.</summary>
    public void RecordFailure(Guid organizationId, Guid donorId)
    {
        var limits = _options.CurrentValue;
        var now = _time.GetUtcNow();
        Count(new Subject(organizationId, donorId), limits.FailedPaymentsPerDonor, now);
        Count(new Subject(organizationId, Guid.Empty), limits.FailedPaymentsPerOrganization, now);
    }

    private TimeSpan? BlockedFor(Subject subject, FailureLimit limit, DateTimeOffset now)
    {
        if (!_windows.TryGetValue(subject, out Window? window)) return null;
        lock (window!)
        {
            var end = window.Start + limit.Window;
            return window.Failures >= limit.Limit && now < end ? end - now : null;
        }
    }

    private void Count(Subject subject, FailureLimit limit, DateTimeOffset now)
    {
        var window = _windows.GetOrCreate(subject, entry =>
        {
            entry.Size = 1;
            // Kept while in use; the count itself goes by the window's start, on the API's clock.
            entry.SlidingExpiration = limit.Window;
            return new Window { Start = now };
        })!;
        lock (window)
        {
            if (now >= window.Start + limit.Window) (window.Start, window.Failures) = (now, 0);
            window.Failures++;
        }
    }

    public void Dispose() => _windows.Dispose();
}
