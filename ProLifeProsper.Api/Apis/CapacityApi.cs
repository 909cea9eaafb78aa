using Microsoft.AspNetCore.Http.HttpResults;
using ProLifeProsper.Api.Capacity;

namespace ProLifeProsper.Api.Apis;

public static class CapacityApi
{
    public static IEndpointRouteBuilder MapCapacityApi(this IEndpointRouteBuilder app)
    {
        app.MapAdminGroup("Capacity")
            .MapPost("/capacity/plan", PlanCapacity).WithName("PlanCapacity")
            .WithSummary("Capacity units per operation, monthly cost per DynamoDB billing mode and partition heat for a traffic profile (every field optional).");
        return app;
    }

    public static Ok<CapacityPlan> PlanCapacity(TrafficProfile? profile, CapacityPlanGate gate, CancellationToken cancellationToken) =>
        TypedResults.Ok(gate.Plan(profile ?? new TrafficProfile(), cancellationToken));
}
