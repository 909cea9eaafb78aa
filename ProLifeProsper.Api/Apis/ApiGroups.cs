using ProLifeProsper.Api.Auth;
using ProLifeProsper.Api.OpenApi;

namespace ProLifeProsper.Api.Apis;

internal static class ApiGroups
{
    /// <summary>When a route that reads or writes payments answers 503 (see <c>PaymentsStoreGuard</c> and <c>ProblemExceptionHandler</c>).</summary>
    public const string PaymentStoreUnavailable =
        "A database did not answer (`store-unavailable`), or this instance cannot serve payments yet: it is still checking " +
        "that the payment store holds the payments (`payments-store-unchecked`), or found that it has lost them " +
        "(`payments-store-lost`: an operator must act, `detail` says how). Retry later (a write with the same " +
        "Idempotency-Key, which makes the retry safe).";

    /// <summary>When a create that takes an optional Idempotency-Key answers 422.</summary>
    public const string IdempotencyKeyReused =
        "The Idempotency-Key was used for a different request (`idempotency-key-reused`). Nothing was created.";

    /// <summary>When a route that looks up <paramref name="resource"/> by the id in its path answers 404.</summary>
    public static string NotFound(string resource) =>
        $"The organization in the path does not exist or is not the key's own (`organization-not-found`), or it has no {resource} " +
        $"with this id (`{resource}-not-found`). Another organization's ids are never confirmed.";

    // The answers every route shares (401, 403, 429, 503, and 400/413/415 where there is input) are declared by
    // ProblemResponsesTransformer from the route's metadata; groups and routes declare only their own.

    /// <summary>A group under <c>/api/admin</c>: the admin key only.</summary>
    public static RouteGroupBuilder MapAdminGroup(this IEndpointRouteBuilder app, string tag) =>
        app.MapGroup("/api/admin")
            .RequireAuthorization(ApiKeyDefaults.AdminPolicy)
            .WithTags(tag);

    /// <summary>A group under <c>/api/organizations/{orgId}</c>: authenticated and tenant-isolated.</summary>
    public static RouteGroupBuilder MapOrganizationGroup(this IEndpointRouteBuilder app, string segment, string tag) =>
        app.MapGroup(segment.Length == 0 ? "/api/organizations/{orgId:guid}" : $"/api/organizations/{{orgId:guid}}/{segment}")
            .RequireAuthorization()
            .WithMetadata(OrganizationAccess.Required.Instance)
            .WithTags(tag)
            .ProducesProblem(StatusCodes.Status404NotFound); // OrganizationAccess: not there, or not the key's own
}
