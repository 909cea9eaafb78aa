using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.RateLimiting;

namespace ProLifeProsper.Api.Extensions;

public static class RateLimitingExtensions
{
    /// <summary>
    /// Request budgets per organization, for the admin key and per client address (ASP.NET Core's rate limiter, spent by
    /// <c>app.UseRateLimiter()</c> after authentication), and the card-testing limit on failed payments.
    /// </summary>
    public static IServiceCollection AddRequestRateLimiting(this IServiceCollection services)
    {
        // RateLimitOptions and the card-testing FailedPaymentLimiter are registered with the core services (AddApplicationCore).
        services.AddSingleton<RequestRateLimiter>();
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = RateLimitRejection.OnRejectedAsync;
        });
        services.AddOptions<RateLimiterOptions>()
            .Configure<RequestRateLimiter>((options, limiter) => options.GlobalLimiter = limiter.Global);
        return services;
    }
}
