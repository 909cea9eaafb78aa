namespace ProLifeProsper.Domain.Common;

/// <summary>Limits on amounts, in integer minor units.</summary>
public static class MoneyRules
{
    /// <summary>Smallest payment: one minor unit.</summary>
    public const long MinimumAmountMinor = 1;

    /// <summary>Largest single payment or goal: 100,000,000,000 minor units (one billion dollars in cents).</summary>
    public const long MaximumAmountMinor = 100_000_000_000;

    public static bool IsValidAmount(long amountMinor) => amountMinor is >= MinimumAmountMinor and <= MaximumAmountMinor;
}
