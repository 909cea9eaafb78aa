using System.Text;

namespace ProLifeProsper.Simulation;

/// <summary>What a run covered and found: operations, faults, phase changes, and every violated invariant.</summary>
public sealed record SimulationReport(
    int Seed, TimeSpan Duration, IReadOnlyDictionary<string, long> Counters, IReadOnlyDictionary<string, long> DynamoDbFaults,
    long DynamoDbRequests, IReadOnlyList<string> Violations, IReadOnlyList<string> Events)
{
    public long Count(string what) => Counters.GetValueOrDefault(what);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine($"simulation seed {Seed}, {Duration.TotalSeconds:0} s: {(Violations.Count == 0 ? "no invariant violated" : $"{Violations.Count} VIOLATIONS")}");
        text.AppendLine($"  operations: {Count("creates.sent")} creates ({Count("creates.acknowledged")} acknowledged), {Count("refunds.sent")} refunds " +
            $"({Count("refunds.acknowledged")} acknowledged), {Count("reads.sent")} reads, {Count("retries")} retries, {Count("status.none")} attempts cut off or unanswered, {Count("gave-up")} given up");
        text.AppendLine($"  answers: {string.Join(", ", Counters.Where(c => c.Key.StartsWith("status.", StringComparison.Ordinal)).OrderBy(c => c.Key).Select(c => $"{c.Key[7..]} {c.Value}"))}");
        text.AppendLine($"  migration: {Count("phase-changes")} phase changes; steps {string.Join(", ", Counters.Where(c => c.Key.StartsWith("steps.", StringComparison.Ordinal)).OrderBy(c => c.Key).Select(c => $"{c.Key[6..]} {c.Value}"))}");
        text.AppendLine($"  faults: DynamoDB {string.Join(", ", DynamoDbFaults.Select(f => $"{f.Key} {f.Value}"))} (of {DynamoDbRequests} requests); " +
            $"PostgreSQL connections killed {Count("faults.postgres-connections-killed")} in {Count("faults.postgres-kills")} kills; PostgreSQL server crashed {Count("faults.postgres-crashes")} times; API instances restarted {Count("faults.instance-restarts")}; " +
            $"processor unreachable {Count("faults.processor-unreachable")}, processor answers lost {Count("faults.processor-lost-answers")}; clients that gave up after a 503 {Count("gave-up.after-503")}");
        text.AppendLine($"  invariant checks: {Count("checks")} between steps ({Count("checks.unavailable")} organizations unreadable at the time), and the final check");
        foreach (var violation in Violations.Take(50)) text.AppendLine($"  VIOLATION {violation}");
        return text.ToString();
    }
}
