namespace ProLifeProsper.Testing.Faults;

/// <summary>What the hostile DynamoDB did with one operation, as of one moment.</summary>
/// <param name="Forwarded">Requests that reached the real server.</param>
/// <param name="Faults">Faults injected, per kind.</param>
/// <param name="ConditionalCheckFailures">Real answers that were ConditionalCheckFailedException (billed all the same).</param>
/// <param name="ReadCapacityUnits">Read capacity the real server reported consuming.</param>
/// <param name="WriteCapacityUnits">Write capacity the real server reported consuming, plus failed conditional writes.</param>
public sealed record HostileOperationLedger(
    long Forwarded,
    IReadOnlyDictionary<HostileFault, long> Faults,
    long ConditionalCheckFailures,
    double ReadCapacityUnits,
    double WriteCapacityUnits)
{
    public long FaultsOf(HostileFault kind) => Faults.GetValueOrDefault(kind);
}
