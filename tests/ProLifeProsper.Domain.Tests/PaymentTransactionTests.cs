using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Domain.Tests;

public sealed class PaymentTransactionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static PaymentTransaction Payment(PaymentStatus status, long amount = 10_000) =>
        PaymentTransaction.Create(Guid.CreateVersion7(),
            new PaymentRequest(Guid.CreateVersion7(), Guid.CreateVersion7(), amount, "USD", PaymentMethodType.Card, "tok_visa"),
            new GatewayOutcome(status, status == PaymentStatus.Failed ? "card_declined" : null), "key", Now);

    public static TheoryData<PaymentStatus, PaymentStatus, bool> Transitions()
    {
        var data = new TheoryData<PaymentStatus, PaymentStatus, bool>();
        var allowed = new HashSet<(PaymentStatus, PaymentStatus)>
        {
            (PaymentStatus.Pending, PaymentStatus.Succeeded), (PaymentStatus.Pending, PaymentStatus.Failed),
            (PaymentStatus.Succeeded, PaymentStatus.PartiallyRefunded), (PaymentStatus.Succeeded, PaymentStatus.Refunded),
            (PaymentStatus.PartiallyRefunded, PaymentStatus.PartiallyRefunded), (PaymentStatus.PartiallyRefunded, PaymentStatus.Refunded),
        };
        foreach (var from in Enum.GetValues<PaymentStatus>())
            foreach (var to in Enum.GetValues<PaymentStatus>())
                data.Add(from, to, allowed.Contains((from, to)));
        return data;
    }

    [Theory]
    [MemberData(nameof(Transitions))]
    public void The_state_machine_allows_exactly_the_documented_transitions(PaymentStatus from, PaymentStatus to, bool allowed) =>
        Assert.Equal(allowed, PaymentStateMachine.CanTransition(from, to));

    [Fact]
    public void A_new_payment_is_version_1_with_utc_timestamps_and_a_v7_id()
    {
        var payment = Payment(PaymentStatus.Succeeded);
        Assert.Equal(1, payment.Version);
        Assert.Equal(7, payment.TransactionId.Version);
        Assert.Equal(TimeSpan.Zero, payment.CreatedAt.Offset);
        Assert.Null(payment.FailureCode);
        Assert.Equal(10_000, payment.RefundableAmountMinor);
    }

    [Fact]
    public void Settling_moves_pending_to_succeeded_and_bumps_the_version()
    {
        var settled = Payment(PaymentStatus.Pending).Settle(Now.AddMinutes(1));
        Assert.Equal(PaymentStatus.Succeeded, settled.Status);
        Assert.Equal(2, settled.Version);
        Assert.Equal(Now.AddMinutes(1), settled.UpdatedAt);
        Assert.Equal(Now, settled.CreatedAt);
    }

    [Theory]
    [InlineData(PaymentStatus.Succeeded)]
    [InlineData(PaymentStatus.Failed)]
    public void Only_pending_payments_settle_or_fail(PaymentStatus status)
    {
        var payment = Payment(status);
        var error = Assert.Throws<DomainException>(() => payment.Settle(Now));
        Assert.Equal(DomainErrorKind.Conflict, error.Kind);
        Assert.Throws<DomainException>(() => payment.Fail("x", Now));
    }

    [Fact]
    public void Refunds_are_partial_until_nothing_is_left()
    {
        var payment = Payment(PaymentStatus.Succeeded, 1_000);
        var partial = payment.Refund(300, Now);
        Assert.Equal(PaymentStatus.PartiallyRefunded, partial.Status);
        Assert.Equal(700, partial.RefundableAmountMinor);
        var again = partial.Refund(300, Now);
        Assert.Equal(PaymentStatus.PartiallyRefunded, again.Status);
        var full = again.Refund(400, Now);
        Assert.Equal(PaymentStatus.Refunded, full.Status);
        Assert.Equal(1_000, full.RefundedAmountMinor);
        Assert.Equal(0, full.RefundableAmountMinor);
        Assert.Equal(4, full.Version);
    }

    [Fact]
    public void A_refund_never_exceeds_what_is_left()
    {
        var partial = Payment(PaymentStatus.Succeeded, 1_000).Refund(600, Now);
        var error = Assert.Throws<DomainException>(() => partial.Refund(401, Now));
        Assert.Equal(DomainErrorKind.Unprocessable, error.Kind);
        Assert.Equal("refund-exceeds-balance", error.Code);
    }

    [Fact]
    public void A_payment_takes_at_most_its_changes_in_refunds()
    {
        var payment = Payment(PaymentStatus.Succeeded, 1_000);
        for (var i = 0; i < PaymentTransaction.MaxChanges; i++) payment = payment.Refund(1, Now);
        Assert.Equal(PaymentTransaction.MaxChanges, payment.RefundedAmountMinor);
        var error = Assert.Throws<DomainException>(() => payment.Refund(1, Now));
        Assert.Equal(DomainErrorKind.Unprocessable, error.Kind);
        Assert.Equal("too-many-refunds", error.Code);
        Assert.Equal(PaymentStatus.Refunded, payment.Refund(payment.RefundableAmountMinor, Now).Status); // everything left, in one

        // A bank transfer's settlement is one of the changes.
        var settled = Payment(PaymentStatus.Pending, 1_000).Settle(Now);
        for (var i = 1; i < PaymentTransaction.MaxChanges; i++) settled = settled.Refund(1, Now);
        Assert.Equal("too-many-refunds", Assert.Throws<DomainException>(() => settled.Refund(1, Now)).Code);
    }

    [Theory]
    [InlineData(PaymentStatus.Pending)]
    [InlineData(PaymentStatus.Failed)]
    public void Uncaptured_payments_cannot_be_refunded(PaymentStatus status)
    {
        var error = Assert.Throws<DomainException>(() => Payment(status).Refund(1, Now));
        Assert.Equal(DomainErrorKind.Conflict, error.Kind);
        Assert.Equal(0, Payment(status).RefundableAmountMinor);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_refund_amount_must_be_positive(long amount) =>
        Assert.Equal(DomainErrorKind.Validation, Assert.Throws<DomainException>(() => Payment(PaymentStatus.Succeeded).Refund(amount, Now)).Kind);

    [Fact]
    public void Snapshots_round_trip_exactly()
    {
        var payment = Payment(PaymentStatus.Succeeded).Refund(5, Now);
        Assert.Equal(payment, PaymentSnapshotJson.DeserializePayment(PaymentSnapshotJson.Serialize(payment)));
        var receipt = new RefundReceipt(Guid.CreateVersion7(), 5, "USD", Now, payment);
        Assert.Equal(receipt, PaymentSnapshotJson.DeserializeRefund(PaymentSnapshotJson.Serialize(receipt)));
    }
}
