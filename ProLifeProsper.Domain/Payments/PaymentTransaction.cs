using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Domain.Payments;

/// <summary>
/// One donation payment. Immutable: every change returns a new version, and stores apply it only
/// if the stored version is still <see cref="Version"/> - 1 (optimistic concurrency on both stores).
/// </summary>
public sealed record PaymentTransaction
{
    public required Guid TransactionId { get; init; }
    public required Guid OrganizationId { get; init; }
    public required Guid CampaignId { get; init; }
    public required Guid DonorId { get; init; }
    public required long AmountMinor { get; init; }
    public required string Currency { get; init; }
    public required PaymentStatus Status { get; init; }
    public required PaymentMethodType PaymentMethodType { get; init; }

    /// <summary>The gateway's token for the payment method (for example <c>tok_visa</c>); never a card number.</summary>
    public required string PaymentMethodToken { get; init; }
    public required string IdempotencyKey { get; init; }
    public string? FailureCode { get; init; }
    public long RefundedAmountMinor { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Starts at 1 and grows by one with every change.</summary>
    public int Version { get; init; } = 1;

    /// <summary>
    /// Most changes after creation (refunds, a settlement) before only a refund of everything left is taken. A store keeps what each change applied (on DynamoDB, the keys of
    /// the refunds in the payment's item, up to 255 characters each): without a bound, one-unit refunds would grow one item
    /// to DynamoDB's 400 KB limit, after which every refund of it failed.
    /// </summary>
    public const int MaxChanges = 100;

    public long RefundableAmountMinor => Status.IsCaptured() ? AmountMinor - RefundedAmountMinor : 0;

    /// <summary>A new payment as the gateway's first answer left it; created at <paramref name="now"/> to the millisecond, as its id says.</summary>
    public static PaymentTransaction Create(Guid organizationId, PaymentRequest request, GatewayOutcome outcome,
        string idempotencyKey, DateTimeOffset now) => CreateAt(organizationId, request, outcome, idempotencyKey, UtcClock.TruncateToMilliseconds(now));

    private static PaymentTransaction CreateAt(Guid organizationId, PaymentRequest request, GatewayOutcome outcome,
        string idempotencyKey, DateTimeOffset now) => new()
    {
        TransactionId = Guid.CreateVersion7(now),
        OrganizationId = organizationId,
        CampaignId = request.CampaignId,
        DonorId = request.DonorId,
        AmountMinor = request.AmountMinor,
        Currency = request.Currency,
        Status = outcome.Status,
        PaymentMethodType = request.PaymentMethodType,
        PaymentMethodToken = request.PaymentMethodToken,
        IdempotencyKey = idempotencyKey,
        FailureCode = outcome.Status == PaymentStatus.Failed ? outcome.FailureCode : null,
        CreatedAt = now,
        UpdatedAt = now,
    };

    /// <summary>A pending payment whose funds arrived.</summary>
    public PaymentTransaction Settle(DateTimeOffset now) => MoveTo(PaymentStatus.Succeeded, now);

    /// <summary>A pending payment the gateway gave up on.</summary>
    public PaymentTransaction Fail(string failureCode, DateTimeOffset now) => MoveTo(PaymentStatus.Failed, now) with { FailureCode = failureCode };

    /// <summary>Gives back part or all of a captured payment; never more than what is left.</summary>
    public PaymentTransaction Refund(long amountMinor, DateTimeOffset now)
    {
        var target = RefundedAmountMinor + amountMinor == AmountMinor ? PaymentStatus.Refunded : PaymentStatus.PartiallyRefunded;
        if (!PaymentStateMachine.CanTransition(Status, target)) throw DomainErrors.InvalidTransition(Status, target);
        new ValidationErrors().RequireAmount(amountMinor, "amountMinor").ThrowIfAny();
        if (amountMinor > RefundableAmountMinor) throw DomainErrors.RefundExceedsBalance(amountMinor, RefundableAmountMinor);
        // Past the bound only the refund of everything left, after which nothing can change the payment any more.
        if (Version - 1 >= MaxChanges && target != PaymentStatus.Refunded) throw DomainErrors.TooManyRefunds(MaxChanges);
        return MoveTo(target, now) with { RefundedAmountMinor = RefundedAmountMinor + amountMinor };
    }

    private PaymentTransaction MoveTo(PaymentStatus target, DateTimeOffset now)
    {
        if (!PaymentStateMachine.CanTransition(Status, target)) throw DomainErrors.InvalidTransition(Status, target);
        return this with { Status = target, UpdatedAt = now > UpdatedAt ? now : UpdatedAt, Version = Version + 1 };
    }
}
