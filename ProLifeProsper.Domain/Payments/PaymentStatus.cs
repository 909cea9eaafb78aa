namespace ProLifeProsper.Domain.Payments;

/// <summary>
/// Where a payment is in its life. <c>pending</c> → <c>succeeded</c> | <c>failed</c>;
/// <c>succeeded</c> → <c>partially_refunded</c> | <c>refunded</c>; <c>partially_refunded</c> → itself | <c>refunded</c>.
/// </summary>
public enum PaymentStatus
{
    Pending,
    Succeeded,
    Failed,
    PartiallyRefunded,
    Refunded,
}

public static class PaymentStatusNames
{
    public static string ToWire(this PaymentStatus status) => status switch
    {
        PaymentStatus.Pending => "pending",
        PaymentStatus.Succeeded => "succeeded",
        PaymentStatus.Failed => "failed",
        PaymentStatus.PartiallyRefunded => "partially_refunded",
        PaymentStatus.Refunded => "refunded",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static bool TryParse(string? value, out PaymentStatus status)
    {
        foreach (var candidate in Enum.GetValues<PaymentStatus>())
        {
            if (string.Equals(candidate.ToWire(), value, StringComparison.Ordinal))
            {
                status = candidate;
                return true;
            }
        }
        status = default;
        return false;
    }

    public static PaymentStatus Parse(string value) =>
        TryParse(value, out var status) ? status : throw new FormatException($"Unknown payment status '{value}'.");

    /// <summary>Statuses of money that was captured (the payment succeeded at some point).</summary>
    public static bool IsCaptured(this PaymentStatus status) =>
        status is PaymentStatus.Succeeded or PaymentStatus.PartiallyRefunded or PaymentStatus.Refunded;
}
