using ProLifeProsper.Api.RateLimiting;

namespace ProLifeProsper.Api.Errors;

/// <summary>A request refused for now (429 ProblemDetails with a <c>Retry-After</c> header), before it changed anything.</summary>
public sealed class RateLimitedException(string code, string title, string detail, TimeSpan retryAfter) : Exception(detail)
{
    public string Code { get; } = code;

    public string Title { get; } = title;

    public TimeSpan RetryAfter { get; } = retryAfter;

    public static RateLimitedException FailedPayments(string whose, FailureLimit limit, TimeSpan retryAfter) =>
        new("too-many-failed-payments", "Too many failed payment attempts.",
            $"Payments for {whose} failed {limit.Limit} times within {limit.Window}; no payment is attempted for it until the window ends.",
            retryAfter);
}
