using ProLifeProsper.Api.Services;
using ProLifeProsper.Domain.Campaigns;

namespace ProLifeProsper.Api.Apis.Contracts;

public sealed record CreateCampaignRequest(
    string? Name, long? GoalAmountMinor, string? Currency, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt, CampaignStatus? Status);

public sealed record CampaignResponse(
    Guid Id, Guid OrganizationId, string Name, long GoalAmountMinor, string Currency, long RaisedAmountMinor, long DonationCount,
    CampaignStatus Status, DateTimeOffset StartsAt, DateTimeOffset? EndsAt, DateTimeOffset CreatedAt)
{
    public static CampaignResponse From(CampaignWithProgress p) => new(
        p.Campaign.Id, p.Campaign.OrganizationId, p.Campaign.Name, p.Campaign.GoalAmountMinor, p.Campaign.Currency,
        p.Totals.RaisedAmountMinor, p.Totals.DonationCount, p.Campaign.Status, p.Campaign.StartsAt, p.Campaign.EndsAt, p.Campaign.CreatedAt);
}
