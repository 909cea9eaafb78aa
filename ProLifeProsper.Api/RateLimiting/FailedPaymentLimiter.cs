using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Errors;

namespace ProLifeProsper.Api.RateLimiting;

/// <summary>
/// Card-testing defence: counts failed charges per donor and per organization, and once either has had its limit of failures
/// within the window, refuses further payment attempts for it (429) before the processor is asked. Donors and organizations
/// are tracked in a bounded cache while they pay; attempts in flight count against the limit until they finish.
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

        // Attempts at the processor, by idempotency key: concurrent requests with one key are one attempt (the processor
        // charges a key once), so they hold one place, not one each.
        public readonly Dictionary<string, int> InFlight = new(StringComparer.Ordinal);
    }

    /// <summary>
    /// Admits one payment attempt, or throws <see cref="RateLimitedException"/> when the donor or the organization has had too
    /// many failed charges lately. Attempts still at the processor count as possible failures until they are disposed: a card
    /// tester firing in parallel would otherwise have every attempt admitted before the first decline is counted.
    /// </summary>
    public IDisposable Admit(Guid organizationId, Guid donorId, string idempotencyKey)
    {
        var limits = _options.CurrentValue;
        var now = _time.GetUtcNow();
        var donor = Track(new Subject(organizationId, donorId), limits.FailedPaymentsPerDonor, now);
        var organization = Track(new Subject(organizationId, Guid.Empty), limits.FailedPaymentsPerOrganization, now);
        lock (donor)
        lock (organization)
        {
            if (BlockedFor(donor, limits.FailedPaymentsPerDonor, now, idempotencyKey) is { } donorWait)
                throw TooManyFailures("this donor", limits.FailedPaymentsPerDonor, donorWait);
            if (BlockedFor(organization, limits.FailedPaymentsPerOrganization, now, idempotencyKey) is { } organizationWait)
                throw TooManyFailures("this organization", limits.FailedPaymentsPerOrganization, organizationWait);
            Enter(donor, idempotencyKey);
            Enter(organization, idempotencyKey);
        }
        return new Admission(donor, organization, idempotencyKey);
    }

    private static void Enter(Window window, string key) => window.InFlight[key] = window.InFlight.GetValueOrDefault(key) + 1;

    private static void Leave(Window window, string key)
    {
        lock (window)
        {
            if (window.InFlight[key] == 1) window.InFlight.Remove(key);
            else window.InFlight[key]--;
        }
    }

    private sealed class Admission(Window donor, Window organization, string key) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
            Leave(donor, key);
            Leave(organization, key);
        }
    }

    /// <summary>Counts one failed charge against the donor and the organization.</summary>
    public void RecordFailure(Guid organizationId, Guid donorId)
    {
        var limits = _options.CurrentValue;
        var now = _time.GetUtcNow();
        Count(new Subject(organizationId, donorId), limits.FailedPaymentsPerDonor, now);
        Count(new Subject(organizationId, Guid.Empty), limits.FailedPaymentsPerOrganization, now);
    }

    // Called under the window's lock. Failures past the window no longer count; attempts in flight always do (a retry of a
    // key already in flight is that attempt, not another).
    private static TimeSpan? BlockedFor(Window window, FailureLimit limit, DateTimeOffset now, string key)
    {
        var end = window.Start + limit.Window;
        var failures = now < end ? window.Failures : 0;
        var inFlight = window.InFlight.Count - (window.InFlight.ContainsKey(key) ? 1 : 0);
        if (failures + inFlight < limit.Limit) return null;
        return failures >= limit.Limit ? end - now : TimeSpan.FromSeconds(1); // full of attempts in flight: try again shortly
    }

    private Window Track(Subject subject, FailureLimit limit, DateTimeOffset now)
    {
        if (_windows.TryGetValue(subject, out Window? window)) return window!;
        // GetOrCreate is not atomic: two first attempts at once would each get a window of their own, and each be admitted
        // against an empty count (CI saw 4 of 30 parallel declines charged against a limit of 3).
        lock (_creating)
            return _windows.GetOrCreate(subject, entry =>
            {
                entry.Size = 1;
                // Kept while in use; the count itself goes by the window's start, on the API's clock.
                entry.SlidingExpiration = limit.Window;
                return new Window { Start = now };
            })!;
    }

    private readonly Lock _creating = new();

    private void Count(Subject subject, FailureLimit limit, DateTimeOffset now)
    {
        var window = Track(subject, limit, now);
        lock (window)
        {
            if (now >= window.Start + limit.Window) (window.Start, window.Failures) = (now, 0);
            window.Failures++;
        }
    }

    public void Dispose() => _windows.Dispose();

    private static RateLimitedException TooManyFailures(string whose, FailureLimit limit, TimeSpan retryAfter) =>
        new("too-many-failed-payments", "Too many failed payment attempts.",
            $"Payments for {whose} failed {limit.Limit} times within {limit.Window}; no payment is attempted for it until the window ends.",
            retryAfter);
}
