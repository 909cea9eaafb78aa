namespace ProLifeProsper.Api.Services;

/// <summary>Configuration section <c>Payments:Settlement</c>.</summary>
public sealed class PaymentSettlementOptions
{
    public const string SectionName = "Payments:Settlement";

    /// <summary>How long a pending bank transfer waits before the sandbox settles it.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the worker looks for due payments.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>At most this many payments per look.</summary>
    public int BatchSize { get; set; } = 100;

    public bool Enabled { get; set; } = true;
}
