namespace ProLifeProsper.Api.Storage.PostgreSql;

/// <summary>
/// What a PostgreSQL payment write must check and record in its own transaction during a migration:
/// the routing version it was decided under, and the outbox row that carries it to the other store.
/// </summary>
/// <param name="RoutingVersion">The write is refused (<see cref="StaleRoutingException"/>) if routing moved on.</param>
/// <param name="MirrorTo">Store that must also receive the write (an outbox row), or null.</param>
public sealed record PostgreSqlWriteGuard(long RoutingVersion, string? MirrorTo)
{
    /// <summary>
    /// The fence, as SQL: a row exactly when the routing version is still the one in parameter <c>$</c><paramref name="parameter"/>.
    /// Run after <see cref="RoutingLock.AcquireShared"/> in the same transaction, so no phase change can commit in between.
    /// </summary>
    public static string RoutingVersionIsCurrent(int parameter) => $"SELECT 1 FROM routing_state WHERE id = 1 AND version = ${parameter}";

    /// <summary>The head of an insert into the outbox; every writer supplies the columns in this order.</summary>
    public const string InsertOutboxRow =
        "INSERT INTO payment_outbox (target, organization_id, transaction_id, idempotency_key, expected_version, enqueued_at, attempts, next_attempt_at) ";
}
