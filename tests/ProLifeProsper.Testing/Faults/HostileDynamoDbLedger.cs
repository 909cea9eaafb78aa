using System.Collections.Concurrent;

namespace ProLifeProsper.Testing.Faults;

/// <summary>
/// The hostile DynamoDB's books, per operation: requests forwarded, faults injected per kind, and the capacity
/// the real server's answers report — including the answers the client never saw (a lost answer was still
/// billed). A failed conditional write is billed by DynamoDB too, but neither DynamoDB nor dynalite reports
/// its capacity in the 400 body: unless the body says otherwise it is booked at the 1 WCU minimum.
/// </summary>
public sealed class HostileDynamoDbLedger
{
    private readonly ConcurrentDictionary<string, Entry> _operations = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, HostileOperationLedger> Snapshot() =>
        _operations.ToDictionary(o => o.Key, o => o.Value.Snapshot(), StringComparer.Ordinal);

    /// <summary>Faults of one kind injected into all operations.</summary>
    public long FaultsOf(HostileFault kind) => _operations.Values.Sum(e => Interlocked.Read(ref e.Faults[(int)kind]));

    public long Forwarded => _operations.Values.Sum(e => Interlocked.Read(ref e.Forwarded));

    public double ReadCapacityUnits => _operations.Values.Sum(e => e.Snapshot().ReadCapacityUnits);

    public double WriteCapacityUnits => _operations.Values.Sum(e => e.Snapshot().WriteCapacityUnits);

    public override string ToString() => string.Join("; ", Snapshot().OrderBy(o => o.Key, StringComparer.Ordinal).Select(o =>
        $"{o.Key}: forwarded {o.Value.Forwarded}, faults [{string.Join(", ", o.Value.Faults.Where(f => f.Value > 0).Select(f => $"{f.Key} {f.Value}"))}], " +
        $"ccf {o.Value.ConditionalCheckFailures}, RCU {o.Value.ReadCapacityUnits}, WCU {o.Value.WriteCapacityUnits}"));

    internal void RecordForwarded(string operation) => Interlocked.Increment(ref Of(operation).Forwarded);

    internal void RecordFault(string operation, HostileFault kind) => Interlocked.Increment(ref Of(operation).Faults[(int)kind]);

    internal void RecordConditionalCheckFailure(string operation) => Interlocked.Increment(ref Of(operation).ConditionalCheckFailures);

    internal void RecordCapacity(string operation, double readUnits, double writeUnits)
    {
        var entry = Of(operation);
        lock (entry) { entry.ReadUnits += readUnits; entry.WriteUnits += writeUnits; }
    }

    private Entry Of(string operation) => _operations.GetOrAdd(operation, _ => new Entry());

    private sealed class Entry
    {
        public long Forwarded;
        public long ConditionalCheckFailures;
        public readonly long[] Faults = new long[Enum.GetValues<HostileFault>().Length];
        public double ReadUnits;
        public double WriteUnits;

        public HostileOperationLedger Snapshot()
        {
            lock (this)
            {
                return new HostileOperationLedger(
                    Interlocked.Read(ref Forwarded),
                    Enum.GetValues<HostileFault>().ToDictionary(k => k, k => Interlocked.Read(ref Faults[(int)k])),
                    Interlocked.Read(ref ConditionalCheckFailures),
                    ReadUnits,
                    WriteUnits);
            }
        }
    }
}
