using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace ProLifeProsper.Api.RateLimiting;

/// <summary>How a request over its budget is answered: 429 ProblemDetails (<c>rate-limited</c>) and when to retry.</summary>
public static class RateLimitRejection
{
    public const string ProblemCode = "rate-limited";

    public static async ValueTask OnRejectedAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        SetRetryAfter(http.Response, wait);
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        var whose = RequestPartition.Of(http).Kind switch
        {
            RequestPartition.Kinds.Organization => "This organization has made more requests than its rate limit allows.",
            RequestPartition.Kinds.Admin => "The admin key has made more requests than its rate limit allows.",
            _ => "This client address has made too many requests without a valid API key.",
        };
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Type = ProblemTypes.For(ProblemCode),
                Title = "Too many requests.",
                Detail = $"{whose} Nothing was done; retry after the number of seconds in the Retry-After header.",
            },
        });
    }

    /// <summary>Retry-After in whole seconds, rounded up (at least 1).</summary>
    public static void SetRetryAfter(HttpResponse response, TimeSpan wait) =>
        response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
