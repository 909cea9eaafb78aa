using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.OpenApi;
using ProLifeProsper.Api.Services;

namespace ProLifeProsper.Api.Apis;

public static class CampaignsApi
{
    public static IEndpointRouteBuilder MapCampaignsApi(this IEndpointRouteBuilder app)
    {
        // Progress is read from the payment store.
        var campaigns = app.MapOrganizationGroup("campaigns", "Campaigns")
            .ProducesProblemWhen(StatusCodes.Status503ServiceUnavailable, ApiGroups.PaymentStoreUnavailable);
        campaigns.MapPost("/", CreateCampaign).WithName("CreateCampaign")
            .WithSummary("Create a fundraising campaign. With an Idempotency-Key, a retry with the same key and body answers with the first campaign.")
            .ProducesProblemWhen(StatusCodes.Status422UnprocessableEntity, ApiGroups.IdempotencyKeyReused)
            .WithMetadata(OptionalIdempotencyKey.Instance);
        campaigns.MapGet("/", ListCampaigns).WithName("ListCampaigns").WithSummary("List campaigns with their progress, newest first.");
        campaigns.MapGet("/{campaignId:guid}", GetCampaign).WithName("GetCampaign").WithSummary("Get a campaign with its progress.")
            .ProducesProblemWhen(StatusCodes.Status404NotFound, ApiGroups.NotFound("campaign"));
        return app;
    }

    public static async Task<Created<CampaignResponse>> CreateCampaign(
        Guid orgId,
        [FromHeader(Name = RequestParsing.IdempotencyKeyHeader)] string[]? idempotencyKey,
        CreateCampaignRequest request,
        CampaignService campaigns,
        HttpContext httpContext,
        CancellationToken cancellationToken)
    {
        var created = await campaigns.CreateAsync(orgId, RequestParsing.OptionalIdempotencyKey(idempotencyKey, httpContext.Request), request.Name, request.GoalAmountMinor,
            request.Currency, request.StartsAt, request.EndsAt, request.Status, cancellationToken);
        RequestParsing.MarkReplay(httpContext, created.Replayed);
        return TypedResults.Created($"/api/organizations/{orgId}/campaigns/{created.Value.Campaign.Id}", ToResponse(created.Value));
    }

    public static async Task<Ok<ListResponse<CampaignResponse>>> ListCampaigns(Guid orgId, int? limit, string? cursor, CampaignService campaigns, CancellationToken cancellationToken)
    {
        var page = await campaigns.ListAsync(orgId, RequestParsing.Page(limit, cursor), cancellationToken);
        return TypedResults.Ok(new ListResponse<CampaignResponse>(page.Items.Select(ToResponse).ToList(), page.Next?.Encode()));
    }

    public static async Task<Ok<CampaignResponse>> GetCampaign(Guid orgId, Guid campaignId, CampaignService campaigns, CancellationToken cancellationToken) =>
        TypedResults.Ok(ToResponse(await campaigns.GetAsync(orgId, campaignId, cancellationToken)));

    private static CampaignResponse ToResponse(CampaignWithProgress p) => new(
        p.Campaign.Id, p.Campaign.OrganizationId, p.Campaign.Name, p.Campaign.GoalAmountMinor, p.Campaign.Currency,
        p.Totals.RaisedAmountMinor, p.Totals.DonationCount, p.Campaign.Status, p.Campaign.StartsAt, p.Campaign.EndsAt, p.Campaign.CreatedAt);
}
