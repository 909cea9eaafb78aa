using Microsoft.Net.Http.Headers;

namespace ProLifeProsper.Api.Errors;

/// <summary>
/// JSON is UTF-8 (RFC 8259). A JSON body that names another charset is a 415 before anything reads it; "utf-8" written
/// with quotes or as "utf8" is taken for what it means. (The body reader threw on those and on unknown charsets: a 500.)
/// </summary>
public static class JsonCharsetCheck
{
    public static IApplicationBuilder UseJsonCharsetCheck(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        if (request.ContentType is { } header && MediaTypeHeaderValue.TryParse(header, out var contentType) && contentType.Charset.HasValue
            && (contentType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || contentType.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)))
        {
            var charset = contentType.Charset.Value!.Trim('"').Trim();
            if (charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            {
                contentType.Charset = "utf-8";
                request.ContentType = contentType.ToString();
            }
            else
            {
                context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
                await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status415UnsupportedMediaType,
                        Type = ProblemTypes.For(ProblemTypes.CodeFor(StatusCodes.Status415UnsupportedMediaType)),
                        Title = "JSON bodies must be UTF-8.",
                        Detail = $"The body names the charset '{charset}'; send it as UTF-8 (or name no charset).",
                    },
                });
                return;
            }
        }
        await next(context);
    });
}
