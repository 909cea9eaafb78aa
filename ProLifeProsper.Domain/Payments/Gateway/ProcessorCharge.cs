namespace ProLifeProsper.Domain.Payments;

/// <summary>A charge as the processor's books show it: who asked, under which key, for what, with what outcome, and when.</summary>
public sealed record ProcessorCharge(Guid OrganizationId, string IdempotencyKey, PaymentRequest Request, GatewayOutcome Outcome, DateTimeOffset ChargedAt);
