namespace ProLifeProsper.Domain.Campaigns;

/// <summary>Whether a campaign takes donations.</summary>
public enum CampaignStatus
{
    Active,
    Paused,
    Closed,
}
