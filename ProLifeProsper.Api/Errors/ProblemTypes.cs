namespace ProLifeProsper.Api;

/// <summary>Stable ProblemDetails <c>type</c> URIs: one per error code.</summary>
public static class ProblemTypes
{
    public const string BaseUri = "https://prolifeprosper.org/problems/";

    public static string For(string code) => BaseUri + code;

    /// <summary>
    /// Gives framework-made problems (415 from binding, 413 from Kestrel, 404 for unknown routes) a stable
    /// type of ours instead of the generic RFC link, so clients can switch on <c>type</c> everywhere.
    /// </summary>
    public static void ApplyStableType(Microsoft.AspNetCore.Http.ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Type?.StartsWith(BaseUri, StringComparison.Ordinal) == true) return;
        problem.Type = For(CodeFor(problem.Status));
    }

    /// <summary>The code of a problem known only by its status (framework-made, or a refused request body).</summary>
    public static string CodeFor(int? status) => status switch
    {
        StatusCodes.Status400BadRequest => "malformed-request",
        StatusCodes.Status401Unauthorized => "unauthorized",
        StatusCodes.Status403Forbidden => "forbidden",
        StatusCodes.Status404NotFound => "not-found",
        StatusCodes.Status405MethodNotAllowed => "method-not-allowed",
        StatusCodes.Status409Conflict => "conflict",
        StatusCodes.Status413PayloadTooLarge => "payload-too-large",
        StatusCodes.Status415UnsupportedMediaType => "unsupported-media-type",
        StatusCodes.Status422UnprocessableEntity => "unprocessable",
        StatusCodes.Status429TooManyRequests => "rate-limited",
        _ => "error",
    };
}
