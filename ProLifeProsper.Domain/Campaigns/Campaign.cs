using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Domain.Campaigns;

/// <summary>A fundraising campaign with a goal in one currency.</summary>
public sealed class Campaign : ICreationOrdered
{
    public const int MaxNameLength = 200;

    private Campaign() { Name = ""; Currency = ""; }

    public Guid Id { get; private set; }
    public Guid OrganizationId { get; private set; }
    public string Name { get; private set; }
    public long GoalAmountMinor { get; private set; }
    public string Currency { get; private set; }
    public DateTimeOffset StartsAt { get; private set; }
    public DateTimeOffset? EndsAt { get; private set; }
    public CampaignStatus Status { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset UpdatedAt { get; private set; }

    public static Campaign Create(Guid organizationId, string? name, long? goalAmountMinor, string? currency,
        DateTimeOffset? startsAt, DateTimeOffset? endsAt, CampaignStatus? status, DateTimeOffset now)
    {
        var starts = startsAt.HasValue ? UtcClock.Truncate(startsAt.Value) : now;
        var ends = endsAt.HasValue ? UtcClock.Truncate(endsAt.Value) : (DateTimeOffset?)null;
        new ValidationErrors()
            .RequireText(name, "name", MaxNameLength)
            .RequireAmount(goalAmountMinor, "goalAmountMinor")
            .RequireCurrency(currency, "currency")
            // A JSON enum reader takes "paused, closed" as flags: a value no campaign can have, refused here rather than stored.
            .Require(status is null || Enum.IsDefined(status.Value), "status", "'status' must be one of active, paused, closed.")
            .RequireSupportedTime(starts, "startsAt")
            .RequireSupportedTime(ends, "endsAt")
            .Require(ends is null || ends > starts, "endsAt", "'endsAt' must be after 'startsAt'.")
            .ThrowIfAny();

        return new Campaign
        {
            Id = Guid.CreateVersion7(now),
            OrganizationId = organizationId,
            Name = name!.Trim(),
            GoalAmountMinor = goalAmountMinor!.Value,
            Currency = Common.Currency.Normalize(currency)!,
            StartsAt = starts,
            EndsAt = ends,
            Status = status ?? CampaignStatus.Active,
            CreatedAt = now,
            UpdatedAt = now,
        };
    }

    /// <summary>A donation is accepted only while the campaign is active and inside its dates.</summary>
    public bool AcceptsDonationsAt(DateTimeOffset at) =>
        Status == CampaignStatus.Active && at >= StartsAt && (EndsAt is null || at < EndsAt);
}
