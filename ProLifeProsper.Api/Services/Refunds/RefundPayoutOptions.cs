namespace ProLifeProsper.Api.Services.Refunds;

/// <summary>Configuration section <c>Payments:RefundPayouts</c>.</summary>
public sealed class RefundPayoutOptions
{
    public const string SectionName = "Payments:RefundPayouts";

    /// <summary>
    /// How long after a refund starts the sweeper first looks at it: longer than any refund request takes (its store
    /// writes and their retries included), so it only finds refunds whose request was cut off.
    /// </summary>
    public TimeSpan Grace { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the sweeper looks for owed pay-outs.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>At most this many owed pay-outs per look.</summary>
    public int BatchSize { get; set; } = 100;
}
