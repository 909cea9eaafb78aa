namespace ProLifeProsper.Api.Services.ChargeReconciliation;

/// <summary>Configuration section <c>Payments:ChargeReconciliation</c>.</summary>
public sealed class ChargeReconciliationOptions
{
    public const string SectionName = "Payments:ChargeReconciliation";

    /// <summary>
    /// How old a charge is before it is compared with the stored payments: longer than any create request takes (its charge,
    /// its store write and their retries), so only charges whose request died are found.
    /// </summary>
    public TimeSpan Grace { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the processor's books are read.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How far back the first reconciliation of a database looks (later ones go on from where the last stopped).</summary>
    public TimeSpan FirstLookBack { get; set; } = TimeSpan.FromHours(1);
}
