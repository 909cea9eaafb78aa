using System.Threading.RateLimiting;

namespace ProLifeProsper.Api.RateLimiting;

/// <summary>
/// Configuration section <c>RateLimits</c>. Every limit is kept in memory per API instance: with N replicas behind a load
/// balancer a client may reach up to N times these figures.
/// </summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimits";

    /// <summary>Requests per organization (all of its keys together). Well above the load tests' busiest organization.</summary>
    public TokenBucketLimit PerOrganization { get; set; } = new() { TokenLimit = 10_000, TokensPerPeriod = 5_000, ReplenishmentPeriod = TimeSpan.FromSeconds(1) };

    /// <summary>Requests made with the admin key, which has its own bucket so that operator tooling and tests are never throttled by tenants.</summary>
    public TokenBucketLimit Admin { get; set; } = new() { TokenLimit = 2_000, TokensPerPeriod = 1_000, ReplenishmentPeriod = TimeSpan.FromSeconds(1) };

    /// <summary>Requests without a valid key (none, malformed, unknown, revoked), per client address (IPv6 per /64).</summary>
    public TokenBucketLimit PerClientAddress { get; set; } = new() { TokenLimit = 100, TokensPerPeriod = 20, ReplenishmentPeriod = TimeSpan.FromSeconds(1) };

    /// <summary>Failed charges (declined cards) per donor before further payment attempts for that donor are refused.</summary>
    public FailureLimit FailedPaymentsPerDonor { get; set; } = new() { Limit = 5, Window = TimeSpan.FromHours(1) };

    /// <summary>Failed charges per organization (whichever key or donor) before its further payment attempts are refused.</summary>
    public FailureLimit FailedPaymentsPerOrganization { get; set; } = new() { Limit = 300, Window = TimeSpan.FromMinutes(10) };

    public bool IsValid() =>
        PerOrganization.IsValid() && Admin.IsValid() && PerClientAddress.IsValid()
        && FailedPaymentsPerDonor.IsValid() && FailedPaymentsPerOrganization.IsValid();
}

/// <summary>A token bucket: up to <see cref="TokenLimit"/> requests at once, refilled by <see cref="TokensPerPeriod"/> every <see cref="ReplenishmentPeriod"/>.</summary>
public sealed class TokenBucketLimit
{
    public int TokenLimit { get; set; }
    public int TokensPerPeriod { get; set; }
    public TimeSpan ReplenishmentPeriod { get; set; }

    public bool IsValid() => TokenLimit > 0 && TokensPerPeriod > 0 && ReplenishmentPeriod > TimeSpan.Zero;

    // No queue: a request over the limit is answered 429 at once rather than held.
    public TokenBucketRateLimiterOptions ToLimiterOptions() => new()
    {
        TokenLimit = TokenLimit,
        TokensPerPeriod = TokensPerPeriod,
        ReplenishmentPeriod = ReplenishmentPeriod,
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}

/// <summary>At most <see cref="Limit"/> failures within any <see cref="Window"/> (a sliding window).</summary>
public sealed class FailureLimit
{
    public int Limit { get; set; }
    public TimeSpan Window { get; set; }

    // Bounded so that a window's end stays a date (no overflow) and a subject's kept failures stay small.
    public bool IsValid() => Limit is > 0 and <= 1_000_000 && Window > TimeSpan.Zero && Window <= TimeSpan.FromDays(366);
}
