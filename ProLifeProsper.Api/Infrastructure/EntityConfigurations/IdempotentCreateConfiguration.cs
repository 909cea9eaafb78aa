using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ProLifeProsper.Api.Infrastructure.Rows;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Infrastructure.EntityConfigurations;

internal sealed class IdempotentCreateConfiguration : IEntityTypeConfiguration<IdempotentCreateRow>
{
    public void Configure(EntityTypeBuilder<IdempotentCreateRow> builder)
    {
        builder.ToTable("idempotent_creates");
        // Scoped to the organization, as payment keys are: one tenant's key never answers with another's resource.
        builder.HasKey(r => new { r.OrganizationId, r.IdempotencyKey }).HasName("pk_idempotent_creates");
        builder.Property(r => r.IdempotencyKey).HasMaxLength(IdempotencyRecord.MaxKeyLength);
        builder.Property(r => r.Fingerprint).HasMaxLength(64);
    }
}
