namespace ProLifeProsper.Domain.Payments;

/// <summary>The only status changes a payment may make; everything else is refused by the domain.</summary>
public static class PaymentStateMachine
{
    public static bool CanTransition(PaymentStatus from, PaymentStatus to) => (from, to) switch
    {
        (PaymentStatus.Pending, PaymentStatus.Succeeded) => true,
        (PaymentStatus.Pending, PaymentStatus.Failed) => true,
        (PaymentStatus.Succeeded, PaymentStatus.PartiallyRefunded) => true,
        (PaymentStatus.Succeeded, PaymentStatus.Refunded) => true,
        (PaymentStatus.PartiallyRefunded, PaymentStatus.PartiallyRefunded) => true,
        (PaymentStatus.PartiallyRefunded, PaymentStatus.Refunded) => true,
        _ => false,
    };
}
