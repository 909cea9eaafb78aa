using Npgsql;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// The organizations' shard changes in PostgreSQL, beside the organizations: an append-only history, so every replica
/// computes the same partition key for a payment from its creation time. A change takes effect
/// <see cref="OrganizationShards.Lead"/> after it is recorded, by the database's clock.
/// </summary>
public sealed class OrganizationShardRegistry(NpgsqlDataSource dataSource) : IOrganizationShardSource
{
    /// <summary>Every read of an organization's history asks this many partitions at most.</summary>
    public const int MaxShards = 64;

    public async Task<OrganizationShardMap> LoadAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT organization_id, effective_from, shards FROM organization_shard_changes");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var changes = new List<(Guid Organization, OrganizationShardChange Change)>();
        while (await reader.ReadAsync(cancellationToken))
            changes.Add((reader.GetGuid(0), new OrganizationShardChange(reader.GetFieldValue<DateTimeOffset>(1), reader.GetInt32(2))));
        return new OrganizationShardMap(
            changes.GroupBy(c => c.Organization).ToDictionary(g => g.Key, g => new OrganizationShardHistory(g.Select(c => c.Change))),
            OrganizationShardHistory.Single);
    }

    /// <summary>
    /// Records that the organization's payments created from <see cref="OrganizationShards.Lead"/> from now on are spread over
    /// <paramref name="shards"/> keys. A count equal to the one already last recorded records nothing (a retried request).
    /// Rows are never changed or deleted: a payment's place is computed from the history, so deleting a change would hide
    /// every payment created under it.
    /// </summary>
    public async Task RecordAsync(Guid organizationId, int shards, CancellationToken cancellationToken)
    {
        if (shards is < 1 or > MaxShards) throw new ArgumentOutOfRangeException(nameof(shards));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // One change per organization at a time (so two identical requests add one row, not two), taken quickly: the
        // change takes effect Lead after clock_timestamp(), and a statement left waiting would eat into the skew margin.
        await using (var timeout = new NpgsqlCommand("SET LOCAL statement_timeout = '5s'", connection, transaction))
            await timeout.ExecuteNonQueryAsync(cancellationToken);
        await using (var serialize = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))", connection, transaction))
        {
            serialize.Parameters.Add(new() { Value = organizationId });
            await serialize.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var command = new NpgsqlCommand("""
            INSERT INTO organization_shard_changes (organization_id, effective_from, shards, recorded_at)
            SELECT $1, clock_timestamp() + $3, $2, clock_timestamp()
            WHERE COALESCE((SELECT shards FROM organization_shard_changes WHERE organization_id = $1 ORDER BY effective_from DESC LIMIT 1), 1) <> $2
            """, connection, transaction);
        command.Parameters.Add(new() { Value = organizationId });
        command.Parameters.Add(new() { Value = shards });
        command.Parameters.Add(new() { Value = OrganizationShards.Lead });
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
