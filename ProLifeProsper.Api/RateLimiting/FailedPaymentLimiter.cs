using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Errors;

namespace ProLifeProsper.Api.RateLimiting;

/// <summary>
/// Card-testing defence: counts failed charges per donor and per organization, and once either has had its limit of failures
/// within the window, refuses further payment attempts for it (429) before the processor is asked. Attempts in flight count
/// against the limit until they finish.
/// </summary>
/// <remarks>
/// <para>
/// The window slides: a subject is refused while its last <c>Limit</c> failures all lie within the window, so no window-long
/// stretch ever holds more than <c>Limit</c> failures (a window that started at the first attempt let 5 + 5 declines through
/// within minutes across its end).
/// </para>
/// <para>
/// Counts are kept only while they matter (an attempt in flight, or a failure within the window) and are never evicted
/// for space: a cache with a size limit stops remembering a new donor once full and drops a blocked one under pressure,
/// and random donor ids fill it in seconds. Memory stays bounded without a cap because only validated donors are counted
/// (see <c>PaymentTransactionService</c>) and failures need a charge, which the organization's own limit holds to
/// <c>Limit</c> per window.
/// </para>
/// <para>
/// Counted by hand rather than with <c>System.Threading.RateLimiting</c>: its limiters time windows on the stopwatch (this
/// one follows the API's <see cref="TimeProvider"/>, so its Retry-After is exact and tests can move the clock), and keeping
/// one per donor on every payment would cost more than the count itself.
/// </para>
/// </remarks>
public sealed class FailedPaymentLimiter : IDisposable
{
    // How often counts whose failures have all aged out are forgotten (counts are also dropped as their last attempt ends).
    internal static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    private readonly IOptionsMonitor<RateLimitOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<Subject, Count> _counts = new();
    private readonly ITimer _sweep;
    private RateLimitOptions _lastValid;

    public FailedPaymentLimiter(IOptionsMonitor<RateLimitOptions> options, TimeProvider time, ILogger<FailedPaymentLimiter> logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _lastValid = options.CurrentValue;
        // Without the first request's context (its Activity, its AsyncLocals) held for the life of the process.
        using (ExecutionContext.SuppressFlow())
            _sweep = time.CreateTimer(_ => Sweep(), null, SweepInterval, SweepInterval);
    }

    // A reload to invalid limits keeps the last valid ones (and says so) rather than failing payments or the sweep.
    private RateLimitOptions Limits()
    {
        try
        {
            var limits = _options.CurrentValue;
            _invalidReported = 0;
            return _lastValid = limits;
        }
        catch (OptionsValidationException e)
        {
            if (Interlocked.Exchange(ref _invalidReported, 1) == 0) // once, not on every payment
                _logger.LogError(e, "Invalid {Section} configuration; the card-testing limits in force stay as they were", RateLimitOptions.SectionName);
            return _lastValid;
        }
    }

    private int _invalidReported;

    /// <summary>Donors and organizations counted right now (for tests: counts must not outlive what they count).</summary>
    internal int Tracked => _counts.Count;

    // Guid.Empty as the donor: the organization's own count.
    private readonly record struct Subject(Guid OrganizationId, Guid DonorId)
    {
        public FailureLimit LimitIn(RateLimitOptions options) =>
            DonorId == Guid.Empty ? options.FailedPaymentsPerOrganization : options.FailedPaymentsPerDonor;
    }

    // Guarded by its own lock. Removed: taken out of the dictionary; whoever still holds it looks it up again.
    private sealed class Count
    {
        // The latest failures, oldest first: at most the limit's worth, and none older than the window.
        public readonly Queue<DateTimeOffset> Failures = new();

        // Attempts at the processor, by idempotency key: concurrent requests with one key are one attempt (the processor
        // charges a key once), so they hold one place, not one each.
        public readonly Dictionary<string, int> InFlight = new(StringComparer.Ordinal);

        public bool Removed;

        public void Forget(FailureLimit limit, DateTimeOffset now)
        {
            while (Failures.Count > 0 && (Failures.Count > limit.Limit || Failures.Peek() + limit.Window <= now)) Failures.Dequeue();
        }

        public bool IsIdle(FailureLimit limit, DateTimeOffset now)
        {
            Forget(limit, now);
            return InFlight.Count == 0 && Failures.Count == 0;
        }
    }

    /// <summary>
    /// Admits one payment attempt, or throws <see cref="RateLimitedException"/> when the donor or the organization has had too
    /// many failed charges lately. Attempts still at the processor count as possible failures until they are disposed: a card
    /// tester firing in parallel would otherwise have every attempt admitted before the first decline is counted.
    /// </summary>
    public IDisposable Admit(Guid organizationId, Guid donorId, string idempotencyKey)
    {
        // Guid.Empty stands for the organization's own count; the API refuses it as a donor id before it gets here.
        ArgumentOutOfRangeException.ThrowIfEqual(donorId, Guid.Empty);
        var limits = Limits();
        var now = _time.GetUtcNow();
        var donorSubject = new Subject(organizationId, donorId);
        var organizationSubject = new Subject(organizationId, Guid.Empty);
        var (donorLimit, organizationLimit) = (donorSubject.LimitIn(limits), organizationSubject.LimitIn(limits));
        while (true)
        {
            // GetOrAdd hands every caller the one stored count, so first attempts arriving at once share it.
            var donor = _counts.GetOrAdd(donorSubject, static _ => new Count());
            var organization = _counts.GetOrAdd(organizationSubject, static _ => new Count());
            lock (donor) // always donor, then organization
            lock (organization)
            {
                if (donor.Removed || organization.Removed) continue; // forgotten as we took it: take the current one
                var donorWait = BlockedFor(donor, donorLimit, now, idempotencyKey);
                var organizationWait = BlockedFor(organization, organizationLimit, now, idempotencyKey);
                if (donorWait is not null || organizationWait is not null)
                {
                    // A count made for this refusal alone is not kept. Retry-After is the longer wait: both must be over.
                    ForgetIfIdle(donorSubject, donor, donorLimit, now);
                    ForgetIfIdle(organizationSubject, organization, organizationLimit, now);
                    throw (organizationWait ?? TimeSpan.Zero) > (donorWait ?? TimeSpan.Zero)
                        ? TooManyFailures("this organization", organizationLimit, organizationWait!.Value)
                        : TooManyFailures("this donor", donorLimit, donorWait!.Value);
                }
                Enter(donor, idempotencyKey);
                Enter(organization, idempotencyKey);
                return new Admission(this, new Held(donorSubject, donor), new Held(organizationSubject, organization), idempotencyKey);
            }
        }
    }

    // A count an admission holds a place in.
    private readonly record struct Held(Subject Subject, Count Count);

    private static void Enter(Count count, string key) => count.InFlight[key] = count.InFlight.GetValueOrDefault(key) + 1;

    private void Leave(Held held, string key)
    {
        lock (held.Count)
        {
            if (held.Count.InFlight[key] == 1) held.Count.InFlight.Remove(key);
            else held.Count.InFlight[key]--;
            ForgetIfIdle(held.Subject, held.Count, held.Subject.LimitIn(Limits()), _time.GetUtcNow()); // the limits in force now
        }
    }

    // Called under the count's lock.
    private void ForgetIfIdle(Subject subject, Count count, FailureLimit limit, DateTimeOffset now)
    {
        if (!count.IsIdle(limit, now)) return;
        count.Removed = true;
        _counts.TryRemove(new KeyValuePair<Subject, Count>(subject, count));
    }

    private sealed class Admission(FailedPaymentLimiter limiter, Held donor, Held organization, string key) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
            limiter.Leave(donor, key);
            limiter.Leave(organization, key);
        }
    }

    /// <summary>Counts one failed charge against the donor and the organization.</summary>
    public void RecordFailure(Guid organizationId, Guid donorId)
    {
        var limits = Limits();
        var now = _time.GetUtcNow();
        Fail(new Subject(organizationId, donorId), limits, now);
        Fail(new Subject(organizationId, Guid.Empty), limits, now);
    }

    private void Fail(Subject subject, RateLimitOptions limits, DateTimeOffset now)
    {
        var limit = subject.LimitIn(limits);
        while (true)
        {
            var count = _counts.GetOrAdd(subject, static _ => new Count());
            lock (count)
            {
                if (count.Removed) continue;
                count.Failures.Enqueue(now);
                count.Forget(limit, now);
                return;
            }
        }
    }

    // Called under the count's lock. Failures past the window no longer count; attempts in flight always do (a retry of a
    // key already in flight is that attempt, not another).
    private static TimeSpan? BlockedFor(Count count, FailureLimit limit, DateTimeOffset now, string key)
    {
        count.Forget(limit, now);
        var failures = count.Failures.Count;
        var inFlight = count.InFlight.Count - (count.InFlight.ContainsKey(key) ? 1 : 0);
        if (failures + inFlight < limit.Limit) return null;
        // Full of failures: refused until the oldest of them leaves the window. Full of attempts in flight: try again shortly.
        return failures >= limit.Limit ? count.Failures.Peek() + limit.Window - now : TimeSpan.FromSeconds(1);
    }

    // On a timer thread: an exception here would end the process, so none leaves.
    private void Sweep()
    {
        try
        {
            var limits = Limits();
            var now = _time.GetUtcNow();
            foreach (var (subject, count) in _counts)
                lock (count)
                    if (!count.Removed) ForgetIfIdle(subject, count, subject.LimitIn(limits), now);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Sweeping the card-testing counts failed; the next sweep tries again");
        }
    }

    public void Dispose() => _sweep.Dispose();

    private static RateLimitedException TooManyFailures(string whose, FailureLimit limit, TimeSpan retryAfter) =>
        new("too-many-failed-payments", "Too many failed payment attempts.",
            $"Payments for {whose} failed {limit.Limit} times within {limit.Window}; no payment is attempted for it until the oldest of those failures is {limit.Window} old.",
            retryAfter);
}
