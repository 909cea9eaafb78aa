namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>From <see cref="EffectiveFrom"/> on, an organization's new payments are spread over <see cref="Shards"/> partition keys.</summary>
public readonly record struct OrganizationShardChange(DateTimeOffset EffectiveFrom, int Shards);

/// <summary>
/// How one organization's payments are spread over base-table partition keys through time. A payment's shard is a function
/// of its creation time and id alone: hash(id) mod the count in effect when it was created. So a payment never moves when
/// the count changes (nothing to copy, nothing hidden), a get by id is still one GetItem, and a range read asks shards
/// 0..n-1 for the largest count n in effect during the range (hash mod a smaller count lands below it too).
/// </summary>
public sealed class OrganizationShardHistory
{
    /// <summary>An organization never split: one partition key, shard 0.</summary>
    public static readonly OrganizationShardHistory Single = new([]);

    private readonly OrganizationShardChange[] _changes;

    public OrganizationShardHistory(IEnumerable<OrganizationShardChange> changes) =>
        _changes = changes.OrderBy(c => c.EffectiveFrom).ToArray();

    public IReadOnlyList<OrganizationShardChange> Changes => _changes;

    /// <summary>The shard count of a payment created at <paramref name="createdAt"/>.</summary>
    public int ShardsAt(DateTimeOffset createdAt)
    {
        var shards = 1;
        foreach (var change in _changes)
        {
            if (change.EffectiveFrom > createdAt) break;
            shards = change.Shards;
        }
        return shards;
    }

    /// <summary>How many shards a read of payments created in [<paramref name="from"/>, <paramref name="to"/>) must ask.</summary>
    public int ShardsDuring(DateTimeOffset from, DateTimeOffset to)
    {
        var most = ShardsAt(from);
        foreach (var change in _changes)
            if (change.EffectiveFrom > from && change.EffectiveFrom < to) most = Math.Max(most, change.Shards);
        return most;
    }

    /// <summary>How many shards a read of all of the organization's payments must ask.</summary>
    public int ShardsEver => _changes.Length == 0 ? 1 : Math.Max(1, _changes.Max(c => c.Shards));
}
