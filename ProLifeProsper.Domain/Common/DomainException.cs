namespace ProLifeProsper.Domain.Common;

/// <summary>
/// A broken rule, raised by the domain and by every store alike, so the API answers the same
/// ProblemDetails whichever database served the request.
/// </summary>
/// <param name="Kind">What kind of rule was broken.</param>
/// <param name="Code">Stable machine-readable code (becomes the ProblemDetails <c>type</c> suffix).</param>
/// <param name="Title">Stable human-readable title.</param>
public class DomainException(DomainErrorKind kind, string code, string title, string detail, IReadOnlyDictionary<string, string[]>? errors = null)
    : Exception(detail)
{
    public DomainErrorKind Kind { get; } = kind;
    public string Code { get; } = code;
    public string Title { get; } = title;
    public IReadOnlyDictionary<string, string[]>? Errors { get; } = errors;
}
