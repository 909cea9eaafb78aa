namespace ProLifeProsper.Api.Routing;

/// <summary>
/// Where the payment data lives, as one state machine persisted in PostgreSQL (<c>routing_state</c>).
/// <c>postgres</c> → <c>dual-write</c> → <c>backfill</c> → <c>verify</c> → <c>dynamo-primary</c> → <c>dynamo-only</c>;
/// rollback returns to <c>postgres</c> from any of them with every acknowledged payment in PostgreSQL.
/// </summary>
public enum MigrationPhase
{
    /// <summary>PostgreSQL only (configurations <c>current</c> and <c>development</c>).</summary>
    Postgres,
    /// <summary>PostgreSQL is the source of truth; every write is mirrored to DynamoDB through the outbox.</summary>
    DualWrite,
    /// <summary>Dual-write, while historical payments are copied to DynamoDB.</summary>
    Backfill,
    /// <summary>Dual-write; the stores are being (or were) compared.</summary>
    Verify,
    /// <summary>DynamoDB serves reads and writes first; PostgreSQL receives every write as the shadow.</summary>
    DynamoPrimary,
    /// <summary>DynamoDB only; PostgreSQL is no longer written.</summary>
    DynamoOnly,
}

public static class MigrationPhases
{
    public static string ToWire(this MigrationPhase phase) => phase switch
    {
        MigrationPhase.Postgres => "postgres",
        MigrationPhase.DualWrite => "dual-write",
        MigrationPhase.Backfill => "backfill",
        MigrationPhase.Verify => "verify",
        MigrationPhase.DynamoPrimary => "dynamo-primary",
        MigrationPhase.DynamoOnly => "dynamo-only",
        _ => throw new ArgumentOutOfRangeException(nameof(phase), phase, null),
    };

    public static MigrationPhase Parse(string value) =>
        Enum.GetValues<MigrationPhase>().FirstOrDefault(p => p.ToWire() == value, (MigrationPhase)(-1)) is var phase && Enum.IsDefined(phase)
            ? phase
            : throw new FormatException($"Unknown migration phase '{value}'.");

    /// <summary>True when DynamoDB serves reads and takes writes first.</summary>
    public static bool DynamoIsPrimary(this MigrationPhase phase) => phase is MigrationPhase.DynamoPrimary or MigrationPhase.DynamoOnly;

    /// <summary>True when writes are mirrored to the other store through the outbox.</summary>
    public static bool Mirrors(this MigrationPhase phase) =>
        phase is MigrationPhase.DualWrite or MigrationPhase.Backfill or MigrationPhase.Verify or MigrationPhase.DynamoPrimary;
}
