namespace ProLifeProsper.Api.Apis.Contracts;

public sealed record DatabaseHealth(string Status, double? LatencyMs, string? Error = null);

public sealed record RoutingHealth(string Configuration, string PaymentsStore);

/// <summary>Refund pay-outs donors are owed: recorded refunds the processor has not yet paid (the sweeper pays them).</summary>
/// <param name="Owed">Owed now, including refunds whose request is still running.</param>
/// <param name="Failing">Of those, the sweeper's attempts have failed three times or more: look at the processor.</param>
public sealed record RefundPayoutHealth(long Owed, long Failing);

public sealed record SystemHealth(
    string Status,
    RoutingHealth Routing,
    IReadOnlyDictionary<string, DatabaseHealth> Databases,
    IReadOnlyDictionary<string, StorePerformance> Performance,
    RefundPayoutHealth? RefundPayouts);

/// <summary>A store's live figures, as <c>/api/admin/health</c> reports them.</summary>
public sealed record StorePerformance(
    long Operations, double OperationsPerSecond, double AverageLatencyMs, double P99LatencyMs,
    long Errors, long Retries, long Throttled, double ConsumedReadCapacity, double ConsumedWriteCapacity);
