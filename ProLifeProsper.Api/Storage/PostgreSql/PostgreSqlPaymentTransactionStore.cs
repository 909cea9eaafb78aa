using Npgsql;
using NpgsqlTypes;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Storage.PostgreSql;

/// <summary>
/// Payments in PostgreSQL, with hand-written SQL: each write is one atomic statement or transaction that
/// writes the payment and its idempotency record together, so a retry can never double-charge.
/// </summary>
public sealed class PostgreSqlPaymentTransactionStore(NpgsqlDataSource dataSource) : IPaymentTransactionStore
{
    public const string StoreName = "postgresql";

    private const string Columns =
        "transaction_id, organization_id, campaign_id, donor_id, amount_minor, currency, status, payment_method_type, " +
        "payment_method_token, idempotency_key, failure_code, refunded_amount_minor, created_at, updated_at, version";

    private const string CapturedStatuses = "('succeeded', 'partially_refunded', 'refunded')";

    public string Name => StoreName;

    public async Task<IdempotencyRecord?> FindIdempotencyRecordAsync(Guid organizationId, string key, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT organization_id, key, fingerprint, resource_id, response_json, created_at FROM idempotency_records WHERE organization_id = $1 AND key = $2");
        command.Parameters.Add(new() { Value = organizationId });
        command.Parameters.Add(new() { Value = key });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRecord(reader) : null;
    }

    public async Task<IdempotencyRecord> CreateAsync(PaymentTransaction payment, IdempotencyRecord record, CancellationToken cancellationToken)
    {
        // One statement: the payment row is inserted only if the key was free. A racing request with the
        // same key waits on the unique index, then inserts nothing and reads the winner's record.
        await using var command = dataSource.CreateCommand(
            "WITH idem AS (INSERT INTO idempotency_records (organization_id, key, fingerprint, resource_id, response_json, created_at) " +
            "VALUES ($2, $16, $17, $1, $18, $13) ON CONFLICT DO NOTHING RETURNING 1) " +
            $"INSERT INTO payment_transactions ({Columns}) " +
            "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 WHERE EXISTS (SELECT 1 FROM idem)");
        AddPaymentParameters(command.Parameters, payment);
        command.Parameters.Add(new() { Value = record.Key });
        command.Parameters.Add(new() { Value = record.Fingerprint });
        command.Parameters.Add(new() { Value = record.ResponseJson });
        var inserted = await command.ExecuteNonQueryAsync(cancellationToken);
        if (inserted == 1) return record;
        return await FindIdempotencyRecordAsync(record.OrganizationId, record.Key, cancellationToken)
            ?? throw new InvalidOperationException("Idempotency record vanished after a conflict.");
    }

    public async Task<IdempotencyRecord?> UpdateAsync(PaymentTransaction updated, IdempotencyRecord? record, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (record is not null)
        {
            await using var insert = new NpgsqlCommand(
                "INSERT INTO idempotency_records (organization_id, key, fingerprint, resource_id, response_json, created_at) " +
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING", connection, transaction);
            insert.Parameters.Add(new() { Value = record.OrganizationId });
            insert.Parameters.Add(new() { Value = record.Key });
            insert.Parameters.Add(new() { Value = record.Fingerprint });
            insert.Parameters.Add(new() { Value = record.ResourceId });
            insert.Parameters.Add(new() { Value = record.ResponseJson });
            insert.Parameters.Add(new() { Value = record.CreatedAt });
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                return await FindIdempotencyRecordAsync(record.OrganizationId, record.Key, cancellationToken);
            }
        }

        await using var update = new NpgsqlCommand(
            "UPDATE payment_transactions SET status = $3, failure_code = $4, refunded_amount_minor = $5, updated_at = $6, version = $7 " +
            "WHERE transaction_id = $1 AND organization_id = $2 AND version = $7 - 1", connection, transaction);
        update.Parameters.Add(new() { Value = updated.TransactionId });
        update.Parameters.Add(new() { Value = updated.OrganizationId });
        update.Parameters.Add(new() { Value = updated.Status.ToWire() });
        update.Parameters.Add(new() { Value = (object?)updated.FailureCode ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        update.Parameters.Add(new() { Value = updated.RefundedAmountMinor });
        update.Parameters.Add(new() { Value = updated.UpdatedAt });
        update.Parameters.Add(new() { Value = updated.Version });
        if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            throw DomainErrors.ConcurrentUpdate();
        }
        await transaction.CommitAsync(cancellationToken);
        return record;
    }

    public async Task<PaymentTransaction?> GetAsync(Guid organizationId, Guid transactionId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM payment_transactions WHERE transaction_id = $1 AND organization_id = $2");
        command.Parameters.Add(new() { Value = transactionId });
        command.Parameters.Add(new() { Value = organizationId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadPayment(reader) : null;
    }

    public async Task<PaymentPage> ListAsync(PaymentListQuery query, CancellationToken cancellationToken)
    {
        var sql = $"SELECT {Columns} FROM payment_transactions WHERE organization_id = $1 AND created_at >= $2 AND created_at < $3";
        await using var command = dataSource.CreateCommand();
        command.Parameters.Add(new() { Value = query.OrganizationId });
        command.Parameters.Add(new() { Value = query.From });
        command.Parameters.Add(new() { Value = query.To });
        command.Parameters.Add(new() { Value = query.Limit + 1 });
        if (query.Status is { } status)
        {
            command.Parameters.Add(new() { Value = status.ToWire() });
            sql += $" AND status = ${command.Parameters.Count}";
        }
        if (query.After is { } after)
        {
            command.Parameters.Add(new() { Value = after.CreatedAt });
            command.Parameters.Add(new() { Value = after.Id });
            sql += $" AND (created_at, transaction_id) < (${command.Parameters.Count - 1}, ${command.Parameters.Count})";
        }
        command.CommandText = sql + " ORDER BY created_at DESC, transaction_id DESC LIMIT $4";

        var items = await ReadPaymentsAsync(command, cancellationToken);
        if (items.Count <= query.Limit) return new PaymentPage(items, null);
        items.RemoveAt(items.Count - 1);
        return new PaymentPage(items, new PageCursor(items[^1].CreatedAt, items[^1].TransactionId));
    }

    public async Task<IReadOnlyList<PaymentTransaction>> GetPendingAsync(DateTimeOffset createdBefore, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {Columns} FROM payment_transactions WHERE status = 'pending' AND created_at < $1 ORDER BY created_at, transaction_id LIMIT $2");
        command.Parameters.Add(new() { Value = createdBefore });
        command.Parameters.Add(new() { Value = limit });
        return await ReadPaymentsAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<HourlyPaymentTotal>> GetHourlyTotalsAsync(Guid organizationId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT date_trunc('hour', created_at, 'UTC') AS hour, currency, count(*), sum(amount_minor)::bigint, sum(refunded_amount_minor)::bigint " +
            "FROM payment_transactions WHERE organization_id = $1 AND created_at >= $2 AND created_at < $3 " +
            $"AND status IN {CapturedStatuses} GROUP BY 1, 2 ORDER BY 1, 2");
        command.Parameters.Add(new() { Value = organizationId });
        command.Parameters.Add(new() { Value = from });
        command.Parameters.Add(new() { Value = to });
        var totals = new List<HourlyPaymentTotal>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            totals.Add(new HourlyPaymentTotal(reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1),
                reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
        }
        return totals;
    }

    public async Task<IReadOnlyDictionary<Guid, CampaignTotals>> GetCampaignTotalsAsync(Guid organizationId, IReadOnlyCollection<Guid> campaignIds, CancellationToken cancellationToken)
    {
        var totals = new Dictionary<Guid, CampaignTotals>();
        if (campaignIds.Count == 0) return totals;
        await using var command = dataSource.CreateCommand(
            "SELECT campaign_id, sum(amount_minor - refunded_amount_minor)::bigint, count(*) FROM payment_transactions " +
            "WHERE organization_id = $1 AND campaign_id = ANY($2) AND status IN ('succeeded', 'partially_refunded') GROUP BY campaign_id");
        command.Parameters.Add(new() { Value = organizationId });
        command.Parameters.Add(new() { Value = campaignIds.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            totals[reader.GetGuid(0)] = new CampaignTotals(reader.GetInt64(1), reader.GetInt64(2));
        return totals;
    }

    private static void AddPaymentParameters(NpgsqlParameterCollection parameters, PaymentTransaction p)
    {
        parameters.Add(new() { Value = p.TransactionId });
        parameters.Add(new() { Value = p.OrganizationId });
        parameters.Add(new() { Value = p.CampaignId });
        parameters.Add(new() { Value = p.DonorId });
        parameters.Add(new() { Value = p.AmountMinor });
        parameters.Add(new() { Value = p.Currency });
        parameters.Add(new() { Value = p.Status.ToWire() });
        parameters.Add(new() { Value = p.PaymentMethodType.ToWire() });
        parameters.Add(new() { Value = p.PaymentMethodToken });
        parameters.Add(new() { Value = p.IdempotencyKey });
        parameters.Add(new() { Value = (object?)p.FailureCode ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        parameters.Add(new() { Value = p.RefundedAmountMinor });
        parameters.Add(new() { Value = p.CreatedAt });
        parameters.Add(new() { Value = p.UpdatedAt });
        parameters.Add(new() { Value = p.Version });
    }

    private static async Task<List<PaymentTransaction>> ReadPaymentsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var items = new List<PaymentTransaction>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) items.Add(ReadPayment(reader));
        return items;
    }

    private static PaymentTransaction ReadPayment(NpgsqlDataReader r) => new()
    {
        TransactionId = r.GetGuid(0),
        OrganizationId = r.GetGuid(1),
        CampaignId = r.GetGuid(2),
        DonorId = r.GetGuid(3),
        AmountMinor = r.GetInt64(4),
        Currency = r.GetString(5),
        Status = PaymentStatusNames.Parse(r.GetString(6)),
        PaymentMethodType = PaymentMethodTypeNames.Parse(r.GetString(7)),
        PaymentMethodToken = r.GetString(8),
        IdempotencyKey = r.GetString(9),
        FailureCode = r.IsDBNull(10) ? null : r.GetString(10),
        RefundedAmountMinor = r.GetInt64(11),
        CreatedAt = r.GetFieldValue<DateTimeOffset>(12),
        UpdatedAt = r.GetFieldValue<DateTimeOffset>(13),
        Version = r.GetInt32(14),
    };

    private static IdempotencyRecord ReadRecord(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetGuid(3), r.GetString(4), r.GetFieldValue<DateTimeOffset>(5));
}
