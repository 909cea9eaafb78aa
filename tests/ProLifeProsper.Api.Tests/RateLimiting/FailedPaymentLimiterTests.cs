using Microsoft.Extensions.Options;
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
        using var limiter = new FailedPaymentLimiter(new FixedOptions(options), TimeProvider.System);
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

    private sealed class FixedOptions(RateLimitOptions value) : IOptionsMonitor<RateLimitOptions>
    {
        public RateLimitOptions CurrentValue => value;

        public RateLimitOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<RateLimitOptions, string?> listener) => null;
    }
}
