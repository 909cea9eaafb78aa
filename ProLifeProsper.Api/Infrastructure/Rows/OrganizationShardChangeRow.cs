namespace ProLifeProsper.Api.Infrastructure.Rows;

/// <summary>One recorded change of an organization's shard count (table <c>organization_shard_changes</c>; rows are never changed or deleted).</summary>
public sealed class OrganizationShardChangeRow
{
    public Guid OrganizationId { get; set; }
    public DateTimeOffset EffectiveFrom { get; set; }
    public int Shards { get; set; }
    public DateTimeOffset RecordedAt { get; set; }
}
