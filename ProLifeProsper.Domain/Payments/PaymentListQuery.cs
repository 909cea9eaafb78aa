using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Domain.Payments;

/// <summary>One page of an organization's payments, newest first, created in [<see cref="From"/>, <see cref="To"/>).</summary>
public sealed record PaymentListQuery(
    Guid OrganizationId,
    DateTimeOffset From,
    DateTimeOffset To,
    PaymentStatus? Status,
    int Limit,
    PageCursor? After)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    /// <summary>Where the next page starts after <paramref name="payment"/>.</summary>
    public static PageCursor CursorOf(PaymentTransaction payment) => new(payment.CreatedAt, payment.TransactionId);
}

