using ProLifeProsper.Domain.Campaigns;

namespace ProLifeProsper.Api.Apis.Contracts;

public sealed record CreateCampaignRequest(
    string? Name, long? GoalAmountMinor, string? Currency, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt, CampaignStatus? Status);

public sealed record CampaignResponse(
    Guid Id, Guid OrganizationId, string Name, long GoalAmountMinor, string Currency, long RaisedAmountMinor, long DonationCount,
    CampaignStatus Status, DateTimeOffset StartsAt, DateTimeOffset? EndsAt, DateTimeOffset CreatedAt);
