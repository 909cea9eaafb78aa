using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ProLifeProsper.Api.Infrastructure.Rows;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Infrastructure.EntityConfigurations;

internal sealed class IdempotentCreateConfiguration : IEntityTypeConfiguration<IdempotentCreateRow>
{
    /// <summary>The primary key's name: a unique violation on it means "this key was taken", not "this email was".</summary>
    public const string KeyName = "pk_idempotent_creates";

    public void Configure(EntityTypeBuilder<IdempotentCreateRow> builder)
    {
        builder.ToTable("idempotent_creates");
        // Scoped to the organization, as payment keys are: one tenant's key never answers with another's resource.
        builder.HasKey(r => new { r.OrganizationId, r.IdempotencyKey }).HasName(KeyName);
        builder.Property(r => r.IdempotencyKey).HasMaxLength(IdempotencyRecord.MaxKeyLength);
        builder.Property(r => r.Fingerprint).HasMaxLength(64);
    }
}
