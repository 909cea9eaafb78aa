namespace ProLifeProsper.Domain.Payments;

/// <summary>How the donor pays. Only a gateway token is ever kept, never a card number.</summary>
public enum PaymentMethodType
{
    Card,
    BankTransfer,
}

public static class PaymentMethodTypeNames
{
    public static string ToWire(this PaymentMethodType type) => type switch
    {
        PaymentMethodType.Card => "card",
        PaymentMethodType.BankTransfer => "bank_transfer",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public static bool TryParse(string? value, out PaymentMethodType type)
    {
        switch (value)
        {
            case "card": type = PaymentMethodType.Card; return true;
            case "bank_transfer": type = PaymentMethodType.BankTransfer; return true;
            default: type = default; return false;
        }
    }

    public static PaymentMethodType Parse(string value) =>
        TryParse(value, out var type) ? type : throw new FormatException($"Unknown payment method type '{value}'.");
}
