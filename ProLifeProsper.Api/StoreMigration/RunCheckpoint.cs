using Npgsql;

namespace ProLifeProsper.Api.StoreMigration;

/// <summary>
/// The checkpoint row of a bulk copy (<c>backfill_progress</c>, <c>reverse_copy_progress</c>), written only into the run it
/// was read from: each run is identified by its <c>started_at</c>, so a holder whose run was reset meanwhile (a rollback, a
/// new start) cannot write its position, or "done", into the next one.
/// </summary>
internal static class RunCheckpoint
{
    /// <summary>Applies <paramref name="assignments"/> ($1.. are <paramref name="values"/>) if the row still belongs to <paramref name="run"/>; false when it does not.</summary>
    public static async Task<bool> SaveAsync(NpgsqlDataSource dataSource, string table, DateTimeOffset? run, string assignments, object[] values,
        CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"UPDATE {table} SET {assignments} WHERE id = 1 AND started_at = ${values.Length + 1}");
        foreach (var value in values) command.Parameters.Add(new() { Value = value });
        command.Parameters.Add(new() { Value = run ?? (object)DBNull.Value });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
