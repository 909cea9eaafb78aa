using Microsoft.AspNetCore.Http.HttpResults;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.OpenApi;
using ProLifeProsper.Api.Services;
using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Api.Apis;

public static class AnalyticsApi
{
    /// <summary>At most this many hours per query (a year), so one request cannot scan without bound.</summary>
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(366);

    public static IEndpointRouteBuilder MapAnalyticsApi(this IEndpointRouteBuilder app)
    {
        app.MapOrganizationGroup("analytics", "Analytics")
            .ProducesProblemWhen(StatusCodes.Status503ServiceUnavailable, ApiGroups.PaymentStoreUnavailable)
            .MapGet("/hourly", GetHourly).WithName("GetHourlyAnalytics")
            .WithSummary("Per UTC hour and currency: count and sum of captured (succeeded) payments created in [from, to). Default: the last 24 hours.");
        return app;
    }

    public static async Task<Ok<HourlyAnalyticsResponse>> GetHourly(
        Guid orgId, DateTimeOffset? from, DateTimeOffset? to, PaymentTransactionService payments, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = UtcClock.Now(time);
        var (start, end) = RequestParsing.Range(from, to, now.AddHours(-24), now);
        new ValidationErrors().Require(end - start <= MaxRange, "from", $"The range may span at most {MaxRange.TotalDays} days.").ThrowIfAny();
        var totals = await payments.GetHourlyTotalsAsync(orgId, start, end, cancellationToken);
        return TypedResults.Ok(new HourlyAnalyticsResponse(start, end, totals.Select(HourlyTotalResponse.From).ToList()));
    }
}
