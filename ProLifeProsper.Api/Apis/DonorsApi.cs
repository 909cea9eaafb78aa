using Microsoft.AspNetCore.Http.HttpResults;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.OpenApi;
using ProLifeProsper.Api.Services;

namespace ProLifeProsper.Api.Apis;

public static class DonorsApi
{
    public static IEndpointRouteBuilder MapDonorsApi(this IEndpointRouteBuilder app)
    {
        var donors = app.MapOrganizationGroup("donors", "Donors");
        donors.MapPost("/", CreateDonor).WithName("CreateDonor").WithSummary("Register a donor; the email is unique per organization.")
            .ProducesProblemWhen(StatusCodes.Status409Conflict, "The organization already has a donor with this email (`donor-email-taken`).");
        donors.MapGet("/", ListDonors).WithName("ListDonors").WithSummary("List donors, newest first.");
        donors.MapGet("/{donorId:guid}", GetDonor).WithName("GetDonor").WithSummary("Get a donor.")
            .ProducesProblemWhen(StatusCodes.Status404NotFound, ApiGroups.NotFound("donor"));
        return app;
    }

    public static async Task<Created<DonorResponse>> CreateDonor(Guid orgId, CreateDonorRequest request, DonorService donors, CancellationToken cancellationToken)
    {
        var donor = await donors.CreateAsync(orgId, request.Email, request.Name, cancellationToken);
        return TypedResults.Created($"/api/organizations/{orgId}/donors/{donor.Id}", DonorResponse.From(donor));
    }

    public static async Task<Ok<ListResponse<DonorResponse>>> ListDonors(Guid orgId, int? limit, string? cursor, DonorService donors, CancellationToken cancellationToken)
    {
        var page = await donors.ListAsync(orgId, RequestParsing.Page(limit, cursor), cancellationToken);
        return TypedResults.Ok(new ListResponse<DonorResponse>(page.Items.Select(DonorResponse.From).ToList(), page.Next?.Encode()));
    }

    public static async Task<Ok<DonorResponse>> GetDonor(Guid orgId, Guid donorId, DonorService donors, CancellationToken cancellationToken) =>
        TypedResults.Ok(DonorResponse.From(await donors.GetAsync(orgId, donorId, cancellationToken)));
}
