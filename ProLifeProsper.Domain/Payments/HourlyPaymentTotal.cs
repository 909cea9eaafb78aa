namespace ProLifeProsper.Domain.Payments;

/// <summary>Captured payments created in one UTC hour, in one currency.</summary>
public sealed record HourlyPaymentTotal(DateTimeOffset Hour, string Currency, long Count, long AmountMinor, long RefundedAmountMinor)
{
    public long NetAmountMinor => AmountMinor - RefundedAmountMinor;
}

/// <summary>What a campaign has raised: net of refunds, counting payments not fully refunded.</summary>
public sealed record CampaignTotals(long RaisedAmountMinor, long DonationCount)
{
    public static readonly CampaignTotals Zero = new(0, 0);
}
