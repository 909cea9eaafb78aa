using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Domain.Common;

/// <summary>Every error the domain raises, in one place, so codes and titles stay stable.</summary>
public static class DomainErrors
{
    public static DomainException Validation(IReadOnlyDictionary<string, string[]> errors) =>
        new(DomainErrorKind.Validation, "validation-failed", "One or more fields are invalid.",
            string.Join(" ", errors.SelectMany(e => e.Value)), errors);

    public static DomainException Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    public static DomainException NotFound(string what, Guid id) =>
        new(DomainErrorKind.NotFound, $"{what}-not-found", $"The {what} was not found.", $"No {what} with id '{id}' exists in this organization.");

    public static DomainException ReferenceNotFound(string what, Guid id) =>
        new(DomainErrorKind.Unprocessable, $"{what}-not-found", $"The referenced {what} was not found.", $"No {what} with id '{id}' exists in this organization.");

    public static DomainException DuplicateDonorEmail(string email) =>
        new(DomainErrorKind.Conflict, "donor-email-taken", "A donor with this email already exists.", $"The email '{email}' is already used by a donor of this organization.");

    public static DomainException IdempotencyKeyReused() =>
        new(DomainErrorKind.Unprocessable, "idempotency-key-reused", "The Idempotency-Key was used with a different request.",
            "Keys are unique per request: this key was first used with other parameters or on another endpoint. Use a new key for a new request.");

    public static DomainException IdempotencyKeyInFlight() =>
        new(DomainErrorKind.Conflict, "idempotency-key-in-flight", "A request with this Idempotency-Key is still being processed.",
            "Retry after the first request completes; it will then be replayed.");

    public static DomainException InvalidTransition(PaymentStatus from, PaymentStatus to) =>
        new(DomainErrorKind.Conflict, "invalid-payment-transition", "The payment cannot make this status change.",
            $"A payment that is '{from.ToWire()}' cannot become '{to.ToWire()}'.");

    public static DomainException TooManyRefunds(int most) =>
        new(DomainErrorKind.Unprocessable, "too-many-refunds", "The payment has been changed as often as it can be.",
            $"A payment takes at most {most} changes after it is created (each refund is one, and so is a bank transfer's settlement); after that only a refund of everything left.");

    public static DomainException RefundExceedsBalance(long requested, long remaining) =>
        new(DomainErrorKind.Unprocessable, "refund-exceeds-balance", "The refund is larger than what is left to refund.",
            $"Requested {requested}, but only {remaining} (minor units) remains refundable.");

    public static DomainException CurrencyMismatch(string campaignCurrency, string paymentCurrency) =>
        new(DomainErrorKind.Unprocessable, "currency-mismatch", "The payment currency differs from the campaign's.",
            $"This campaign raises {campaignCurrency}; a {paymentCurrency} payment cannot count towards its goal.");

    public static DomainException CampaignNotAcceptingDonations(Guid campaignId) =>
        new(DomainErrorKind.Unprocessable, "campaign-not-accepting-donations", "The campaign does not accept donations now.",
            $"Campaign '{campaignId}' is not active, has not started yet, or has ended.");

    public static DomainException ConcurrentUpdate() =>
        new(DomainErrorKind.Conflict, "concurrent-update", "The payment was changed by another request.",
            "Retry the request: it will be applied to the latest state.");
}
