using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Infrastructure.Rows;

namespace ProLifeProsper.Api.Infrastructure.EntityConfigurations;

internal sealed class OrganizationShardChangeConfiguration : IEntityTypeConfiguration<OrganizationShardChangeRow>
{
    public void Configure(EntityTypeBuilder<OrganizationShardChangeRow> builder)
    {
        builder.ToTable("organization_shard_changes", t => t.HasCheckConstraint("ck_organization_shard_changes_shards",
            $"shards BETWEEN 1 AND {OrganizationShardRegistry.MaxShards}"));
        builder.HasKey(r => new { r.OrganizationId, r.EffectiveFrom });
    }
}
