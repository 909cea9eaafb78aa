using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ProLifeProsper.Api.Errors;
using ProLifeProsper.Api.RateLimiting;

namespace ProLifeProsper.Api.Tests.RateLimiting;

/// <summary>The card-testing limiter on its own (pure unit: it keeps its counts in memory).</summary>
public sealed class FailedPaymentLimiterTests
{
    [Fact]
    public void First_attempts_of_a_new_donor_arriving_at_once_are_held_to_the_limit()
    {
        // Every round a new donor and organization, 16 attempts released at once: each must count the others in flight,
        // including the ones that created the donor's count at the same moment.
        var options = new RateLimitOptions { FailedPaymentsPerDonor = new() { Limit = 3, Window = TimeSpan.FromHours(1) } };
        using var limiter = new FailedPaymentLimiter(new FixedOptions(options), TimeProvider.System, NullLogger<FailedPaymentLimiter>.Instance);
        for (var round = 0; round < 300; round++)
        {
            // Threads of their own behind one barrier (the pool of a 2-core machine would start them a few at a time).
            var (organization, donor) = (Guid.NewGuid(), Guid.NewGuid());
            using var start = new Barrier(16);
            var admitted = 0;
            var attempts = Enumerable.Range(0, 16).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                try
                {
                    limiter.Admit(organization, donor, $"attempt-{i}"); // held: every admitted attempt stays in flight
                    Interlocked.Increment(ref admitted);
                }
                catch (RateLimitedException)
                {
                }
            })).ToList();
            attempts.ForEach(t => t.Start());
            attempts.ForEach(t => t.Join());
            Assert.Equal(3, admitted);
        }
    }

    [Fact]
    public void A_donor_is_refused_until_the_oldest_of_its_last_declines_is_a_window_old()
    {
        var (limiter, clock) = LimiterWithFakeClock(perDonor: 5, window: TimeSpan.FromHours(1));
        using var _ = limiter;
        var (organization, donor) = (Guid.NewGuid(), Guid.NewGuid());
        Pay(limiter, organization, donor, fails: false); // a first attempt an hour before: the window does not start here

        // Declines at minutes 59, 60, 61, 62 and 63: five within the hour, whatever window the first attempt would have opened.
        clock.Advance(TimeSpan.FromMinutes(59));
        for (var i = 0; i < 5; i++)
        {
            Pay(limiter, organization, donor, fails: true);
            clock.Advance(TimeSpan.FromMinutes(1));
        }

        clock.Advance(TimeSpan.FromMinutes(1)); // minute 65: refused until minute 59 + 60
        Assert.Equal(TimeSpan.FromMinutes(54), Refused(limiter, organization, donor));

        // At minute 119 the decline of minute 59 has left the window: one more attempt; when it fails, the next waits for the
        // decline of minute 60 to leave.
        clock.Advance(TimeSpan.FromMinutes(54));
        Pay(limiter, organization, donor, fails: true);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(59), Refused(limiter, organization, donor));
    }

    [Fact]
    public void Counts_are_kept_while_an_attempt_is_in_flight_or_a_decline_is_in_its_window_and_forgotten_after()
    {
        var window = TimeSpan.FromHours(1);
        var (limiter, clock) = LimiterWithFakeClock(perDonor: 5, window);
        using var _ = limiter;
        var organization = Guid.NewGuid();
        for (var i = 0; i < 1_000; i++) Pay(limiter, organization, Guid.NewGuid(), fails: false);
        Assert.Equal(0, limiter.Tracked); // paid and gone: nothing to remember

        var (decliner, payer) = (Guid.NewGuid(), Guid.NewGuid());
        Pay(limiter, organization, decliner, fails: true);
        var inFlight = limiter.Admit(organization, payer, "slow-processor");
        Assert.Equal(3, limiter.Tracked); // both donors and their organization

        clock.Advance(window - FailedPaymentLimiter.SweepInterval); // sweeps so far keep all three
        Assert.Equal(3, limiter.Tracked);
        clock.Advance(FailedPaymentLimiter.SweepInterval); // the decline has left its window; the attempt is still at the processor
        Assert.Equal(2, limiter.Tracked);
        inFlight.Dispose();
        Assert.Equal(0, limiter.Tracked);
    }

    [Fact]
    public void However_many_others_decline_a_blocked_donor_stays_blocked_and_a_new_one_is_held_to_the_limit()
    {
        // A bounded cache stopped remembering new donors once full, and dropped blocked ones under pressure.
        var (limiter, clock) = LimiterWithFakeClock(perDonor: 5, window: TimeSpan.FromHours(1));
        using var _ = limiter;
        var (organization, blocked) = (Guid.NewGuid(), Guid.NewGuid());
        for (var i = 0; i < 5; i++) Pay(limiter, organization, blocked, fails: true);

        for (var i = 0; i < 60_000; i++) Pay(limiter, Guid.NewGuid(), Guid.NewGuid(), fails: true);
        clock.Advance(FailedPaymentLimiter.SweepInterval);

        Assert.True(Refused(limiter, organization, blocked) > TimeSpan.Zero);
        var newcomer = Guid.NewGuid();
        for (var i = 0; i < 5; i++) Pay(limiter, organization, newcomer, fails: true);
        Assert.True(Refused(limiter, organization, newcomer) > TimeSpan.Zero);
    }

    [Fact]
    public void Attempts_arriving_as_a_count_is_forgotten_still_see_each_other_in_flight()
    {
        // A count is dropped the moment its last attempt ends; an attempt that took it just before must not enter the dropped
        // one (it would hold a place nobody else sees). Eight threads pay as one donor, each attempt held a moment: never more
        // than the limit may be at the processor at once.
        var options = new RateLimitOptions { FailedPaymentsPerDonor = new() { Limit = 3, Window = TimeSpan.FromHours(1) } };
        using var limiter = new FailedPaymentLimiter(new FixedOptions(options), TimeProvider.System, NullLogger<FailedPaymentLimiter>.Instance);
        var (organization, donor) = (Guid.NewGuid(), Guid.NewGuid());
        int atProcessor = 0, most = 0, admitted = 0;
        var payers = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            for (var i = 0; i < 60_000; i++)
            {
                IDisposable admission;
                try
                {
                    admission = limiter.Admit(organization, donor, Guid.NewGuid().ToString());
                }
                catch (RateLimitedException)
                {
                    continue;
                }
                var now = Interlocked.Increment(ref atProcessor);
                InterlockedMax(ref most, now);
                Interlocked.Increment(ref admitted);
                Thread.SpinWait(50);
                Interlocked.Decrement(ref atProcessor);
                admission.Dispose();
            }
        })).ToList();
        payers.ForEach(t => t.Start());
        payers.ForEach(t => t.Join());
        Assert.True(admitted > 1_000, $"only {admitted} attempts admitted");
        Assert.InRange(most, 1, 3);
        Assert.Equal(0, limiter.Tracked);
    }

    [Fact]
    public void A_reload_to_invalid_limits_keeps_the_last_valid_ones_for_payments_and_the_sweep()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero));
        var options = new ReloadableOptions(new RateLimitOptions { FailedPaymentsPerDonor = new() { Limit = 2, Window = TimeSpan.FromHours(1) } });
        using var limiter = new FailedPaymentLimiter(options, clock, NullLogger<FailedPaymentLimiter>.Instance);
        var (organization, donor) = (Guid.NewGuid(), Guid.NewGuid());
        Pay(limiter, organization, donor, fails: true);

        options.Invalid = true; // what IOptionsMonitor does after a reload that fails validation
        Pay(limiter, organization, donor, fails: true); // admitted, counted and left under the last valid limits
        Assert.Equal(TimeSpan.FromHours(1), Refused(limiter, organization, donor));
        clock.Advance(FailedPaymentLimiter.SweepInterval); // a sweep that threw here would end the process
        Assert.Equal(2, limiter.Tracked);
        Assert.True(Refused(limiter, organization, donor) > TimeSpan.Zero);
    }

    private sealed class ReloadableOptions(RateLimitOptions value) : IOptionsMonitor<RateLimitOptions>
    {
        public bool Invalid { get; set; }

        public RateLimitOptions CurrentValue => Invalid ? throw new OptionsValidationException("RateLimits", typeof(RateLimitOptions), ["invalid"]) : value;

        public RateLimitOptions Get(string? name) => CurrentValue;

        public IDisposable? OnChange(Action<RateLimitOptions, string?> listener) => null;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
            if (Interlocked.CompareExchange(ref target, value, seen) == seen) return;
    }

    private static (FailedPaymentLimiter, FakeTimeProvider) LimiterWithFakeClock(int perDonor, TimeSpan window)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero));
        var options = new RateLimitOptions
        {
            FailedPaymentsPerDonor = new() { Limit = perDonor, Window = window },
            FailedPaymentsPerOrganization = new() { Limit = 1_000_000, Window = window },
        };
        return (new FailedPaymentLimiter(new FixedOptions(options), clock, NullLogger<FailedPaymentLimiter>.Instance), clock);
    }

    // One attempt, admitted, that succeeds or fails at the processor (as PaymentTransactionService does it).
    private static void Pay(FailedPaymentLimiter limiter, Guid organization, Guid donor, bool fails)
    {
        using var admission = limiter.Admit(organization, donor, Guid.NewGuid().ToString());
        if (fails) limiter.RecordFailure(organization, donor);
    }

    private static TimeSpan Refused(FailedPaymentLimiter limiter, Guid organization, Guid donor) =>
        Assert.Throws<RateLimitedException>(() => limiter.Admit(organization, donor, Guid.NewGuid().ToString())).RetryAfter;

    private sealed class FixedOptions(RateLimitOptions value) : IOptionsMonitor<RateLimitOptions>
    {
        public RateLimitOptions CurrentValue => value;

        public RateLimitOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<RateLimitOptions, string?> listener) => null;
    }
}
