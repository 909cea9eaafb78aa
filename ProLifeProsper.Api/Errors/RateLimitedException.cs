namespace ProLifeProsper.Api.Errors;

/// <summary>A request refused for now (429 ProblemDetails with a <c>Retry-After</c> header), before it changed anything.</summary>
public sealed class RateLimitedException(string code, string title, string detail, TimeSpan retryAfter) : Exception(detail)
{
    public string Code { get; } = code;

    public string Title { get; } = title;

    public TimeSpan RetryAfter { get; } = retryAfter;
}
