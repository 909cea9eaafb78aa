namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>Every organization's shard history; organizations not listed have <see cref="Default"/> (never split, in production).</summary>
public sealed record OrganizationShardMap(IReadOnlyDictionary<Guid, OrganizationShardHistory> Histories, OrganizationShardHistory Default)
{
    public static readonly OrganizationShardMap Unsplit = new(new Dictionary<Guid, OrganizationShardHistory>(), OrganizationShardHistory.Single);

    public OrganizationShardHistory For(Guid organizationId) => Histories.GetValueOrDefault(organizationId) ?? Default;
}

/// <summary>Where the organizations' shard changes are recorded (PostgreSQL, beside the organizations; a fixed map in tests and tools).</summary>
public interface IOrganizationShardSource
{
    Task<OrganizationShardMap> LoadAsync(CancellationToken cancellationToken);
}

/// <summary>A fixed map: tests, benchmarks, the partition-heat simulation.</summary>
public sealed class FixedOrganizationShardSource(OrganizationShardMap map) : IOrganizationShardSource
{
    public Task<OrganizationShardMap> LoadAsync(CancellationToken cancellationToken) => Task.FromResult(map);
}
