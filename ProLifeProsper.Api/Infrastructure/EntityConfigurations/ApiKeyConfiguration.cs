using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Api.Infrastructure.EntityConfigurations;

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.ToTable("organization_api_keys");
        builder.HasKey(k => k.Id);
        builder.Property(k => k.Id).ValueGeneratedNever();
        builder.Property(k => k.KeyHash).HasMaxLength(64);
        // Authentication looks keys up by hash; a hash belongs to one key.
        builder.HasIndex(k => k.KeyHash).IsUnique();
        builder.HasIndex(k => k.OrganizationId);
    }
}
