namespace ProLifeProsper.Domain.Payments;

/// <summary>The outcome of one refund: its id, the amount, and the payment as the refund left it.</summary>
public sealed record RefundReceipt(Guid RefundId, long AmountMinor, string Currency, DateTimeOffset CreatedAt, PaymentTransaction Payment);
