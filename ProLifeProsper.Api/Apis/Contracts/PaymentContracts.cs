using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Apis.Contracts;

public sealed record PaymentMethodRequest(string? Type, string? Token);

public sealed record CreatePaymentRequest(Guid? CampaignId, Guid? DonorId, long? AmountMinor, string? Currency, PaymentMethodRequest? PaymentMethod);

public sealed record CreateRefundRequest(long? AmountMinor);

public sealed record PaymentMethodResponse(string Type, string Token);

public sealed record PaymentResponse(
    Guid TransactionId, Guid OrganizationId, Guid CampaignId, Guid DonorId, long AmountMinor, string Currency, string Status,
    string? FailureCode, long RefundedAmountMinor, PaymentMethodResponse PaymentMethod, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static PaymentResponse From(PaymentTransaction p) => new(
        p.TransactionId, p.OrganizationId, p.CampaignId, p.DonorId, p.AmountMinor, p.Currency, p.Status.ToWire(), p.FailureCode,
        p.RefundedAmountMinor, new PaymentMethodResponse(p.PaymentMethodType.ToWire(), p.PaymentMethodToken), p.CreatedAt, p.UpdatedAt);
}

public sealed record RefundResponse(Guid RefundId, Guid TransactionId, long AmountMinor, string Currency, DateTimeOffset CreatedAt, PaymentResponse Payment)
{
    public static RefundResponse From(RefundReceipt r) =>
        new(r.RefundId, r.Payment.TransactionId, r.AmountMinor, r.Currency, r.CreatedAt, PaymentResponse.From(r.Payment));
}

public sealed record HourlyTotalResponse(DateTimeOffset Hour, string Currency, long Count, long AmountMinor, long RefundedAmountMinor, long NetAmountMinor)
{
    public static HourlyTotalResponse From(HourlyPaymentTotal t) => new(t.Hour, t.Currency, t.Count, t.AmountMinor, t.RefundedAmountMinor, t.NetAmountMinor);
}

public sealed record HourlyAnalyticsResponse(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<HourlyTotalResponse> Hours);
