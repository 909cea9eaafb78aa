namespace ProLifeProsper.Api.Storage.PostgreSql;

/// <summary>
/// A write was attempted under a routing version that is no longer current; refresh and retry. Thrown by the PostgreSQL
/// side of the routing fence (<see cref="PostgreSqlWriteGuard"/>), where the version is checked inside the write's transaction.
/// </summary>
public sealed class StaleRoutingException(long version) : Exception($"Routing version {version} is no longer current.")
{
    public long Version { get; } = version;
}
