using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Domain.Payments;

/// <summary>A validated request to take a donation.</summary>
public sealed record PaymentRequest(
    Guid CampaignId,
    Guid DonorId,
    long AmountMinor,
    string Currency,
    PaymentMethodType PaymentMethodType,
    string PaymentMethodToken)
{
    public const int MaxTokenLength = 255;

    /// <summary>Checks raw client input; every problem is reported at once and nothing is created.</summary>
    public static PaymentRequest Create(Guid? campaignId, Guid? donorId, long? amountMinor, string? currency,
        string? paymentMethodType, string? paymentMethodToken)
    {
        var errors = new ValidationErrors()
            .Require(campaignId is { } c && c != Guid.Empty, "campaignId", "'campaignId' is required.")
            .Require(donorId is { } d && d != Guid.Empty, "donorId", "'donorId' is required.")
            .RequireAmount(amountMinor, "amountMinor")
            .RequireCurrency(currency, "currency")
            .Require(PaymentMethodTypeNames.TryParse(paymentMethodType, out var type), "paymentMethod.type",
                "'paymentMethod.type' must be 'card' or 'bank_transfer'.")
            .RequireText(paymentMethodToken, "paymentMethod.token", MaxTokenLength);
        if (paymentMethodToken is not null && LooksLikeCardNumber(paymentMethodToken))
            errors.Add("paymentMethod.token", "Send a payment-method token from the gateway, never a card number.");
        errors.ThrowIfAny();

        return new PaymentRequest(campaignId!.Value, donorId!.Value, amountMinor!.Value,
            Common.Currency.Normalize(currency)!, type, paymentMethodToken!.Trim());
    }

    /// <summary>What identifies this request for idempotency: same key + different hash is a different request.</summary>
    public string Fingerprint() => IdempotencyFingerprint.Of("payments.create", CampaignId, DonorId, AmountMinor, Currency,
        PaymentMethodType.ToWire(), PaymentMethodToken);

    // A primary account number is 12-19 digits, however separated (spaces, dashes, dots, underscores, full-width digits);
    // a token never is. Refusing it keeps card data out of storage, logs and backups even when a client integrates wrongly.
    private static bool LooksLikeCardNumber(string token)
    {
        var digits = 0;
        foreach (var ch in token)
        {
            if (char.IsDigit(ch)) digits++;
            else if (char.IsLetter(ch)) return false;
        }
        return digits is >= 12 and <= 19;
    }
}
