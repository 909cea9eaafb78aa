using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Api.Infrastructure.EntityConfigurations;

internal sealed class OrganizationConfiguration : IEntityTypeConfiguration<Organization>
{
    public void Configure(EntityTypeBuilder<Organization> builder)
    {
        builder.ToTable("organizations");
        builder.HasKey(o => o.Id);
        builder.Property(o => o.Id).ValueGeneratedNever();
        builder.Property(o => o.Name).HasMaxLength(Organization.MaxNameLength);
        builder.HasMany(o => o.ApiKeys).WithOne().HasForeignKey(k => k.OrganizationId);
        builder.Navigation(o => o.ApiKeys).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}
