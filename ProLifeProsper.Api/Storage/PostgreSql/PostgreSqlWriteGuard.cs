namespace ProLifeProsper.Api.Storage.PostgreSql;

/// <summary>
/// What a PostgreSQL payment write must check and record in its own transaction during a migration:
/// the routing version it was decided under, and the outbox row that carries it to the other store.
/// </summary>
/// <param name="RoutingVersion">The write is refused (<see cref="StaleRoutingException"/>) if routing moved on.</param>
/// <param name="MirrorTo">Store that must also receive the write (an outbox row), or null.</param>
public sealed record PostgreSqlWriteGuard(long RoutingVersion, string? MirrorTo);
