using Microsoft.AspNetCore.Http.HttpResults;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Services;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Api.Apis;

public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapAdminGroup("Admin");
        admin.MapGet("/health", GetHealth).WithName("GetSystemHealth")
            .WithSummary("Routing, database round trips, and each payment store's live figures since start-up (admin key).");
        admin.MapGet("/organizations/{organizationId:guid}/payment-shards", GetPaymentShards).WithName("GetPaymentShards")
            .WithSummary("How many DynamoDB partition keys the organization's payments are spread over, and every change recorded (admin key).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPut("/organizations/{organizationId:guid}/payment-shards", SetPaymentShards).WithName("SetPaymentShards")
            .WithSummary("Spread the organization's new payments over this many DynamoDB partition keys (1-64; a hot organization: see `plan`). " +
                "Takes effect five minutes later, once every replica has read it; payments already written stay where they are (admin key).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Ok<PaymentShardsResponse>> GetPaymentShards(Guid organizationId, OrganizationService organizations,
        OrganizationShardRegistry registry, TimeProvider time, CancellationToken cancellationToken)
    {
        await organizations.GetAsync(organizationId, cancellationToken); // 404 for an unknown organization
        var history = (await registry.LoadAsync(cancellationToken)).For(organizationId);
        return TypedResults.Ok(ToResponse(organizationId, history, UtcClock.Now(time)));
    }

    public static async Task<Ok<PaymentShardsResponse>> SetPaymentShards(Guid organizationId, PaymentShardsRequest request, OrganizationService organizations,
        OrganizationShardRegistry registry, OrganizationShards shards, TimeProvider time, CancellationToken cancellationToken)
    {
        if (request.Shards is not { } count || count is < 1 or > OrganizationShardRegistry.MaxShards)
            throw DomainErrors.Validation("shards", $"Must be a whole number from 1 to {OrganizationShardRegistry.MaxShards}.");
        await organizations.GetAsync(organizationId, cancellationToken);
        await registry.RecordAsync(organizationId, count, cancellationToken);
        // Read back once, by this replica's map: it shows the change at once; the others within a minute or two, well before it takes effect.
        var history = (await shards.RefreshAsync(cancellationToken)).For(organizationId);
        return TypedResults.Ok(ToResponse(organizationId, history, UtcClock.Now(time)));
    }

    public static async Task<Ok<SystemHealth>> GetHealth(SystemHealthService health, CancellationToken cancellationToken) =>
        TypedResults.Ok(await health.CheckAsync(cancellationToken));

    private static PaymentShardsResponse ToResponse(Guid organizationId, OrganizationShardHistory history, DateTimeOffset now) =>
        new(organizationId, history.ShardsAt(now), history.Changes.Select(c => new PaymentShardChangeResponse(c.EffectiveFrom, c.Shards)).ToList());
}
