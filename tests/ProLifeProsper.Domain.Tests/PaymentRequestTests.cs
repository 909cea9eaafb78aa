using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Domain.Tests;

public sealed class PaymentRequestTests
{
    private static readonly Guid Campaign = Guid.CreateVersion7();
    private static readonly Guid Donor = Guid.CreateVersion7();

    [Fact]
    public void A_valid_request_is_normalised()
    {
        var request = PaymentRequest.Create(Campaign, Donor, 1, " usd ", "card", " tok_visa ");
        Assert.Equal("USD", request.Currency);
        Assert.Equal("tok_visa", request.PaymentMethodToken);
        Assert.Equal(PaymentMethodType.Card, request.PaymentMethodType);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(100_000_000_001L)]
    public void Amounts_outside_the_range_are_refused(long amount)
    {
        var error = Assert.Throws<DomainException>(() => PaymentRequest.Create(Campaign, Donor, amount, "USD", "card", "tok_visa"));
        Assert.Contains("amountMinor", error.Errors!.Keys);
    }

    [Fact]
    public void The_largest_amount_is_accepted() =>
        Assert.Equal(MoneyRules.MaximumAmountMinor, PaymentRequest.Create(Campaign, Donor, MoneyRules.MaximumAmountMinor, "JPY", "card", "tok_visa").AmountMinor);

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var error = Assert.Throws<DomainException>(() => PaymentRequest.Create(null, Guid.Empty, null, "ABC", "cash", null));
        Assert.Equal(DomainErrorKind.Validation, error.Kind);
        Assert.Equal(["amountMinor", "campaignId", "currency", "donorId", "paymentMethod.token", "paymentMethod.type"], error.Errors!.Keys.Order());
    }

    [Theory]
    [InlineData("4242424242424242")]
    [InlineData("4242 4242 4242 4242")]
    [InlineData("4000-0566-5566-5556")]
    [InlineData("378282246310005")]
    public void Card_numbers_are_never_accepted_as_tokens(string pan)
    {
        var error = Assert.Throws<DomainException>(() => PaymentRequest.Create(Campaign, Donor, 100, "USD", "card", pan));
        Assert.Contains("paymentMethod.token", error.Errors!.Keys);
    }

    [Fact]
    public void The_fingerprint_changes_with_any_field_and_not_otherwise()
    {
        var a = PaymentRequest.Create(Campaign, Donor, 100, "USD", "card", "tok_visa");
        Assert.Equal(a.Fingerprint(), PaymentRequest.Create(Campaign, Donor, 100, "usd", "card", "tok_visa").Fingerprint());
        Assert.NotEqual(a.Fingerprint(), (a with { AmountMinor = 101 }).Fingerprint());
        Assert.NotEqual(a.Fingerprint(), (a with { Currency = "EUR" }).Fingerprint());
        Assert.NotEqual(a.Fingerprint(), (a with { DonorId = Guid.CreateVersion7() }).Fingerprint());
        Assert.NotEqual(a.Fingerprint(), (a with { PaymentMethodToken = "tok_chargeDeclined" }).Fingerprint());
        Assert.Equal(64, a.Fingerprint().Length);
    }
}
