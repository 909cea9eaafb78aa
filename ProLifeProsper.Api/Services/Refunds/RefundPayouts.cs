using Microsoft.Extensions.Options;
using Npgsql;

namespace ProLifeProsper.Api.Services.Refunds;

/// <summary>An owed pay-out as the sweeper sees it: the refund, and whether a store write of its payment is still queued.</summary>
public sealed record OwedPayout(Guid RefundId, Guid OrganizationId, Guid TransactionId, string IdempotencyKey, int Attempts, bool StoreWriteQueued, DateTimeOffset OwedAt);

/// <summary>
/// The <c>refund_payouts</c> ledger, in PostgreSQL whichever store holds payments (a payment write already needs PostgreSQL
/// for its routing check). Times are the database's, so replicas with different clocks agree on what is due.
/// </summary>
public sealed class RefundPayouts(NpgsqlDataSource dataSource, IOptions<RefundPayoutOptions> options)
{
    /// <summary>How long after its pay-out was owed a refund's store write may still start (half the grace: the write must land within it).</summary>
    public TimeSpan LatestWriteStart => options.Value.Grace / 2;

    /// <summary>
    /// Records that <paramref name="refundId"/> will be owed if its refund is recorded; the sweeper looks after the grace.
    /// Again for a refund already owed: owed anew from now, so that a sweeper that looked before cannot drop it
    /// (<see cref="DropUnrecordedAsync"/> drops only the owing it saw).
    /// </summary>
    public async Task OweAsync(Guid refundId, Guid organizationId, Guid transactionId, string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO refund_payouts (refund_id, organization_id, transaction_id, idempotency_key, owed_at, attempts, next_attempt_at) " +
            "VALUES ($1, $2, $3, $4, now(), 0, now() + $5) ON CONFLICT (refund_id) DO UPDATE SET owed_at = clock_timestamp(), next_attempt_at = now() + $5");
        command.Parameters.Add(new() { Value = refundId });
        command.Parameters.Add(new() { Value = organizationId });
        command.Parameters.Add(new() { Value = transactionId });
        command.Parameters.Add(new() { Value = idempotencyKey });
        command.Parameters.Add(new() { Value = options.Value.Grace });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Nothing more is owed: the processor paid it, or the refund was never recorded.</summary>
    public async Task SettleAsync(Guid refundId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM refund_payouts WHERE refund_id = $1");
        command.Parameters.Add(new() { Value = refundId });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The refund was never recorded: nothing is owed, unless it was owed anew since the sweeper read it (a refund whose
    /// write landed late owes it again before paying): then the row stays.
    /// </summary>
    public async Task DropUnrecordedAsync(Guid refundId, DateTimeOffset seenOwedAt, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM refund_payouts WHERE refund_id = $1 AND owed_at = $2");
        command.Parameters.Add(new() { Value = refundId });
        command.Parameters.Add(new() { Value = seenOwedAt });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Whether any owed pay-out is due (asked by every instance before one takes the lease).</summary>
    public async Task<bool> AnyDueAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM refund_payouts WHERE next_attempt_at <= now())");
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Owed pay-outs whose time has come, oldest first.</summary>
    public async Task<IReadOnlyList<OwedPayout>> DueAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT r.refund_id, r.organization_id, r.transaction_id, r.idempotency_key, r.attempts, " +
            "EXISTS (SELECT 1 FROM payment_outbox o WHERE o.transaction_id = r.transaction_id), r.owed_at " +
            "FROM refund_payouts r WHERE r.next_attempt_at <= now() ORDER BY r.next_attempt_at LIMIT $1");
        command.Parameters.Add(new() { Value = limit });
        var due = new List<OwedPayout>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            due.Add(new OwedPayout(reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3), reader.GetInt32(4), reader.GetBoolean(5),
                reader.GetFieldValue<DateTimeOffset>(6)));
        return due;
    }

    /// <summary>Not settled yet (the store or the processor did not answer, or the refund's write is still on its way): look again later.</summary>
    public async Task RetryLaterAsync(Guid refundId, string reason, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE refund_payouts SET attempts = attempts + 1, last_error = $2, " +
            "next_attempt_at = now() + least(interval '5 minutes', interval '5 seconds' * power(2, least(attempts, 10))) WHERE refund_id = $1");
        command.Parameters.Add(new() { Value = refundId });
        command.Parameters.Add(new() { Value = reason });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Pay-outs owed and not yet settled, and those the sweeper has failed on three times or more (the operator's view).</summary>
    public async Task<(long Owed, long Failing)> CountAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*), count(*) FILTER (WHERE attempts >= 3) FROM refund_payouts");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
