using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ProLifeProsper.Api.Infrastructure.Rows;

namespace ProLifeProsper.Api.Infrastructure.EntityConfigurations;

internal sealed class WorkerLeaseConfiguration : IEntityTypeConfiguration<WorkerLeaseRow>
{
    public void Configure(EntityTypeBuilder<WorkerLeaseRow> builder)
    {
        builder.ToTable("worker_leases");
        builder.HasKey(r => r.Name);
        builder.Property(r => r.Name).HasMaxLength(64);
        builder.Property(r => r.Holder).HasMaxLength(200);
    }
}
