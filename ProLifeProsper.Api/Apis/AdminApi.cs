using Microsoft.AspNetCore.Http.HttpResults;
using ProLifeProsper.Api.Services;

namespace ProLifeProsper.Api.Apis;

public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapAdminGroup("Admin");
        admin.MapGet("/health", GetHealth).WithName("GetSystemHealth")
            .WithSummary("Routing, database round trips, and each payment store's live figures since start-up (admin key).");
        return app;
    }

    public static async Task<Ok<SystemHealth>> GetHealth(SystemHealthService health, CancellationToken cancellationToken) =>
        TypedResults.Ok(await health.CheckAsync(cancellationToken));
}
