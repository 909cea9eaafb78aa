namespace ProLifeProsper.Api.Storage.PostgreSql;

/// <summary>
/// The PostgreSQL advisory lock that orders payment writes against phase changes: every write holds it shared
/// for its transaction and checks the routing version inside that transaction; a phase change holds it
/// exclusively. So a change waits for in-flight writes, and no write commits under a phase that has ended.
/// (An advisory lock, not a row lock on routing_state: shared row locks would dirty that row on every write.)
/// </summary>
public static class RoutingLock
{
    public const long Key = 0x504C_5052_4F55_5445; // "PLPROUTE"

    public static readonly string AcquireShared = $"SELECT pg_advisory_xact_lock_shared({Key})";
    public static readonly string AcquireExclusive = $"SELECT pg_advisory_xact_lock({Key})";
}
