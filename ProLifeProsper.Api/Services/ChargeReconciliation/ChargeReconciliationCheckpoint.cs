using Npgsql;

namespace ProLifeProsper.Api.Services.ChargeReconciliation;

/// <summary>Up to when the processor's charges have been compared with the stored payments (<c>charge_reconciliation</c>, one row).</summary>
public sealed class ChargeReconciliationCheckpoint(NpgsqlDataSource dataSource)
{
    public async Task<DateTimeOffset?> ReadAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT reconciled_until FROM charge_reconciliation WHERE id = 1");
        return await command.ExecuteScalarAsync(cancellationToken) is DateTime until ? new DateTimeOffset(until, TimeSpan.Zero) : null;
    }

    public async Task SaveAsync(DateTimeOffset until, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO charge_reconciliation (id, reconciled_until) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET reconciled_until = excluded.reconciled_until");
        command.Parameters.Add(new() { Value = until.ToUniversalTime() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
