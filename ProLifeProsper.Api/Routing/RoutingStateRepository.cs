using Npgsql;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Api.Storage.PostgreSql;

namespace ProLifeProsper.Api.Routing;

/// <summary>The routing state row in PostgreSQL: read it, create it on a fresh database, change it under the exclusive routing lock.</summary>
public sealed class RoutingStateRepository(NpgsqlDataSource dataSource, TimeProvider time)
{
    /// <summary>Creates the row on a fresh database with the phase the static configuration implies; an existing row wins.</summary>
    public async Task EnsureAsync(MigrationPhase initial, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        var state = new NpgsqlBatchCommand("INSERT INTO routing_state (id, phase, version, changed_at, changed_by) VALUES (1, $1, 1, $2, 'configuration') ON CONFLICT DO NOTHING");
        state.Parameters.Add(new() { Value = initial.ToWire() });
        state.Parameters.Add(new() { Value = UtcClock.Now(time) });
        batch.BatchCommands.Add(state);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "INSERT INTO backfill_progress (id, copied, payments_done, records_copied, total) VALUES (1, 0, false, 0, 0) ON CONFLICT DO NOTHING"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "INSERT INTO reverse_copy_progress (id, records_done, copied, records_copied) VALUES (1, false, 0, 0) ON CONFLICT DO NOTHING"));
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Records where payments should live (a replica starting with the reconciler on); unchanged when it already says so.</summary>
    public async Task RecordDesiredAsync(string configuration, CancellationToken cancellationToken, NpgsqlConnection? connection = null, NpgsqlTransaction? transaction = null)
    {
        const string Sql = "UPDATE routing_state SET desired_configuration = $1, desired_at = $2 WHERE id = 1 AND desired_configuration IS DISTINCT FROM $1";
        // Within a step's own transaction when given: recorded only if the step goes through.
        await using var command = connection is null ? dataSource.CreateCommand(Sql) : new NpgsqlCommand(Sql, connection, transaction);
        command.Parameters.Add(new() { Value = configuration });
        command.Parameters.Add(new() { Value = UtcClock.Now(time) });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Notes that a replica started with <paramref name="configuration"/> set; true when that is a change from the last one
    /// noted (a new intention), false for a restart or another replica with the same setting.
    /// </summary>
    public async Task<bool> NoteStartedWithAsync(string configuration, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE routing_state SET started_configuration = $1 WHERE id = 1 AND started_configuration IS DISTINCT FROM $1");
        command.Parameters.Add(new() { Value = configuration });
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>Where payments should live, and since when (null before any replica recorded it).</summary>
    public async Task<(string Configuration, DateTimeOffset At)?> ReadDesiredAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT desired_configuration, desired_at FROM routing_state WHERE id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(0)
            ? (reader.GetString(0), reader.IsDBNull(1) ? DateTimeOffset.MinValue : reader.GetFieldValue<DateTimeOffset>(1))
            : null;
    }

    public async Task<RoutingState> ReadAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT phase, version, changed_at, finalized_at FROM routing_state WHERE id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) throw new InvalidOperationException("routing_state has no row; EnsureAsync runs at start-up.");
        return Read(reader);
    }

    /// <summary>
    /// Changes the phase while holding the routing lock exclusively: in-flight payment writes finish first, and
    /// every later write sees the new version. <paramref name="whileLocked"/> runs inside that window (to check
    /// preconditions or drain the outbox with no writer running) and may refuse the change by throwing.
    /// </summary>
    public async Task<RoutingState> ChangeAsync(Func<RoutingState, NpgsqlConnection, NpgsqlTransaction, Task<MigrationPhase>> whileLocked,
        string changedBy, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var acquire = new NpgsqlCommand(RoutingLock.AcquireExclusive, connection, transaction))
            await acquire.ExecuteNonQueryAsync(cancellationToken);

        RoutingState current;
        await using (var read = new NpgsqlCommand("SELECT phase, version, changed_at, finalized_at FROM routing_state WHERE id = 1 FOR UPDATE", connection, transaction))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            current = Read(reader);
        }

        var next = await whileLocked(current, connection, transaction);
        var now = UtcClock.Now(time);
        await using (var update = new NpgsqlCommand(
            "UPDATE routing_state SET phase = $1, version = version + 1, changed_at = $2, changed_by = $3, " +
            "finalized_at = CASE WHEN $1 = 'dynamo-only' THEN $2 WHEN $1 = 'postgres' THEN NULL ELSE finalized_at END " +
            "WHERE id = 1 RETURNING phase, version, changed_at, finalized_at", connection, transaction))
        {
            update.Parameters.Add(new() { Value = next.ToWire() });
            update.Parameters.Add(new() { Value = now });
            update.Parameters.Add(new() { Value = changedBy });
            await using var reader = await update.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            current = Read(reader);
        }
        await transaction.CommitAsync(cancellationToken);
        return current;
    }

    private static RoutingState Read(NpgsqlDataReader reader) => new(
        MigrationPhases.Parse(reader.GetString(0)), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2),
        reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3));
}
