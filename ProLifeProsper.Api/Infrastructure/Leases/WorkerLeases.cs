using Npgsql;

namespace ProLifeProsper.Api.Infrastructure.Leases;

/// <summary>
/// Time-limited leases in <c>worker_leases</c>: one holder per job at a time, taken over by another instance once the
/// holder stops renewing (it died, or lost PostgreSQL). Holders renew while they work and release when done.
/// </summary>
public sealed class WorkerLeases(NpgsqlDataSource dataSource)
{
    /// <summary>This instance's name as a holder (unique per process and per service provider).</summary>
    public string Holder { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.CreateVersion7():N}";

    /// <summary>Takes the lease if it is free or expired, or renews it if this instance holds it. True when held.</summary>
    public async Task<bool> TryAcquireAsync(string name, TimeSpan duration, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO worker_leases (name, holder, expires_at) VALUES ($1, $2, now() + $3) " +
            "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at " +
            "WHERE worker_leases.holder = EXCLUDED.holder OR worker_leases.expires_at < now() RETURNING 1");
        command.Parameters.Add(new() { Value = name });
        command.Parameters.Add(new() { Value = Holder });
        command.Parameters.Add(new() { Value = duration });
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>Extends the lease if this instance still holds it with time left; never takes a free or expired one. True when extended.</summary>
    public async Task<bool> TryRenewAsync(string name, TimeSpan duration, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE worker_leases SET expires_at = clock_timestamp() + $3 WHERE name = $1 AND holder = $2 AND expires_at > clock_timestamp() RETURNING 1");
        command.Parameters.Add(new() { Value = name });
        command.Parameters.Add(new() { Value = Holder });
        command.Parameters.Add(new() { Value = duration });
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>
    /// Whether this instance holds the lease with time left, read in the caller's transaction: a step that checks it under
    /// a lock every rival step also takes cannot be one another instance has taken over meanwhile (after a pause).
    /// </summary>
    public async Task<bool> HoldsAsync(string name, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT 1 FROM worker_leases WHERE name = $1 AND holder = $2 AND expires_at > clock_timestamp()", connection, transaction);
        command.Parameters.Add(new() { Value = name });
        command.Parameters.Add(new() { Value = Holder });
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>Gives the lease up (if this instance still holds it), so another instance need not wait for it to expire.</summary>
    public async Task ReleaseAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM worker_leases WHERE name = $1 AND holder = $2");
        command.Parameters.Add(new() { Value = name });
        command.Parameters.Add(new() { Value = Holder });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
