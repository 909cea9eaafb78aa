namespace ProLifeProsper.Domain.Payments;

/// <summary>What the gateway said about a charge: succeeded, failed (with a code) or pending.</summary>
public sealed record GatewayOutcome(PaymentStatus Status, string? FailureCode = null)
{
    public static readonly GatewayOutcome Succeeded = new(PaymentStatus.Succeeded);
    public static readonly GatewayOutcome Pending = new(PaymentStatus.Pending);

    public static GatewayOutcome Failed(string code) => new(PaymentStatus.Failed, code);
}
