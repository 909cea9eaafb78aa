namespace ProLifeProsper.Api.Errors;

/// <summary>
/// The service knows it cannot serve this request right now, and says why (a stable <paramref name="code"/>, a sentence on
/// what happened and what an operator does about it): a 503 ProblemDetails, never a 500.
/// </summary>
public sealed class ServiceUnavailableException(string code, string title, string detail) : Exception(detail)
{
    public string Code { get; } = code;

    public string Title { get; } = title;
}
