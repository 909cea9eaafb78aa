using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.OpenApi;
using ProLifeProsper.Api.Services;

namespace ProLifeProsper.Api.Apis;

public static class DonorsApi
{
    public static IEndpointRouteBuilder MapDonorsApi(this IEndpointRouteBuilder app)
    {
        var donors = app.MapOrganizationGroup("donors", "Donors");
        donors.MapPost("/", CreateDonor).WithName("CreateDonor")
            .WithSummary("Register a donor; the email is unique per organization. With an Idempotency-Key, a retry with the same key and body answers with the first donor.")
            .ProducesProblemWhen(StatusCodes.Status409Conflict, "The organization already has a donor with this email (`donor-email-taken`).")
            .ProducesProblemWhen(StatusCodes.Status422UnprocessableEntity, ApiGroups.IdempotencyKeyReused)
            .WithMetadata(OptionalIdempotencyKey.Instance);
        donors.MapGet("/", ListDonors).WithName("ListDonors").WithSummary("List donors, newest first.");
        donors.MapGet("/{donorId:guid}", GetDonor).WithName("GetDonor").WithSummary("Get a donor.")
            .ProducesProblemWhen(StatusCodes.Status404NotFound, ApiGroups.NotFound("donor"));
        return app;
    }

    public static async Task<Created<DonorResponse>> CreateDonor(
        Guid orgId,
        [FromHeader(Name = RequestParsing.IdempotencyKeyHeader)] string[]? idempotencyKey,
        CreateDonorRequest request,
        DonorService donors,
        HttpContext httpContext,
        CancellationToken cancellationToken)
    {
        var donor = await donors.CreateAsync(orgId, RequestParsing.OptionalIdempotencyKey(idempotencyKey, httpContext.Request), request.Email, request.Name, cancellationToken);
        RequestParsing.MarkReplay(httpContext, donor.Replayed);
        return TypedResults.Created($"/api/organizations/{orgId}/donors/{donor.Value.Id}", DonorResponse.From(donor.Value));
    }

    public static async Task<Ok<ListResponse<DonorResponse>>> ListDonors(Guid orgId, int? limit, string? cursor, DonorService donors, CancellationToken cancellationToken)
    {
        var page = await donors.ListAsync(orgId, RequestParsing.Page(limit, cursor), cancellationToken);
        return TypedResults.Ok(new ListResponse<DonorResponse>(page.Items.Select(DonorResponse.From).ToList(), page.Next?.Encode()));
    }

    public static async Task<Ok<DonorResponse>> GetDonor(Guid orgId, Guid donorId, DonorService donors, CancellationToken cancellationToken) =>
        TypedResults.Ok(DonorResponse.From(await donors.GetAsync(orgId, donorId, cancellationToken)));
}
