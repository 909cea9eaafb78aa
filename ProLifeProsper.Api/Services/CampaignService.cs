using Microsoft.EntityFrameworkCore;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Domain.Campaigns;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Services;

/// <summary>A campaign with its progress, computed from the payment store whichever database it is.</summary>
public sealed record CampaignWithProgress(Campaign Campaign, CampaignTotals Totals);

/// <summary>Campaigns; always PostgreSQL. Progress comes from the payment store.</summary>
public sealed class CampaignService(ProLifeProsperDbContext db, IPaymentTransactionStore payments, IdempotentCreates creates, TimeProvider time)
{
    /// <summary>Creates a campaign; a retry with the same <paramref name="idempotencyKey"/> answers with the first one.</summary>
    public async Task<IdempotentResult<CampaignWithProgress>> CreateAsync(Guid organizationId, string? idempotencyKey, string? name, long? goalAmountMinor,
        string? currency, DateTimeOffset? startsAt, DateTimeOffset? endsAt, CampaignStatus? status, CancellationToken cancellationToken)
    {
        var now = UtcClock.Now(time);
        var campaign = Campaign.Create(organizationId, name, goalAmountMinor, currency, startsAt, endsAt, status, now);
        // Over the values as kept (trimmed, upper-cased, to the microsecond), so that a retry differing only in form replays;
        // a time or status left out is marked as such, not as the default it was given.
        var fingerprint = IdempotencyFingerprint.Of("campaigns.create", campaign.Name, campaign.GoalAmountMinor, campaign.Currency,
            startsAt is null ? "-" : campaign.StartsAt.UtcTicks, campaign.EndsAt is null ? "-" : campaign.EndsAt.Value.UtcTicks,
            status is null ? "-" : campaign.Status);
        var result = await creates.CreateAsync(organizationId, idempotencyKey, fingerprint, campaign, campaign.Id, now,
            (id, ct) => FindAsync(organizationId, id, ct), cancellationToken);
        // A new campaign has no donations yet, and the first answer said so: a replay answers the same.
        return new IdempotentResult<CampaignWithProgress>(new CampaignWithProgress(result.Value, CampaignTotals.Zero), result.Replayed);
    }

    public async Task<CampaignWithProgress> GetAsync(Guid organizationId, Guid campaignId, CancellationToken cancellationToken)
    {
        var campaign = await FindAsync(organizationId, campaignId, cancellationToken) ?? throw DomainErrors.NotFound("campaign", campaignId);
        var totals = await payments.GetCampaignTotalsAsync(organizationId, [campaign.Id], cancellationToken);
        return new CampaignWithProgress(campaign, totals.GetValueOrDefault(campaign.Id, CampaignTotals.Zero));
    }

    public Task<Campaign?> FindAsync(Guid organizationId, Guid campaignId, CancellationToken cancellationToken) =>
        db.Campaigns.AsNoTracking().FirstOrDefaultAsync(c => c.Id == campaignId && c.OrganizationId == organizationId, cancellationToken);

    public async Task<Page<CampaignWithProgress>> ListAsync(Guid organizationId, PageRequest page, CancellationToken cancellationToken)
    {
        var campaigns = await db.Campaigns.AsNoTracking().Where(c => c.OrganizationId == organizationId).ToPageAsync(page, cancellationToken);
        var totals = await payments.GetCampaignTotalsAsync(organizationId, campaigns.Items.Select(c => c.Id).ToArray(), cancellationToken);
        return new Page<CampaignWithProgress>(
            campaigns.Items.Select(c => new CampaignWithProgress(c, totals.GetValueOrDefault(c.Id, CampaignTotals.Zero))).ToList(), campaigns.Next);
    }
}
