using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ProLifeProsper.Domain.Donors;
using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Api.Infrastructure.EntityConfigurations;

internal sealed class DonorConfiguration : IEntityTypeConfiguration<Donor>
{
    public void Configure(EntityTypeBuilder<Donor> builder)
    {
        builder.ToTable("donors");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Id).ValueGeneratedNever();
        builder.Property(d => d.Email).HasMaxLength(Donor.MaxEmailLength);
        builder.Property(d => d.NormalizedEmail).HasMaxLength(Donor.MaxEmailLength);
        builder.Property(d => d.Name).HasMaxLength(Donor.MaxNameLength);
        builder.HasOne<Organization>().WithMany().HasForeignKey(d => d.OrganizationId).OnDelete(DeleteBehavior.Restrict);
        // The database, not a read-then-insert, decides "duplicate email" (409), so racing requests agree.
        builder.HasIndex(d => new { d.OrganizationId, d.NormalizedEmail }).IsUnique();
        builder.HasIndex(d => new { d.OrganizationId, d.CreatedAt });
    }
}
