using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ProLifeProsper.Api.Infrastructure.Rows;

namespace ProLifeProsper.Api.Infrastructure.EntityConfigurations;

internal sealed class RefundPayoutConfiguration : IEntityTypeConfiguration<RefundPayoutRow>
{
    public void Configure(EntityTypeBuilder<RefundPayoutRow> builder)
    {
        builder.ToTable("refund_payouts");
        builder.HasKey(r => r.RefundId);
        builder.Property(r => r.RefundId).ValueGeneratedNever();
        builder.Property(r => r.IdempotencyKey).HasMaxLength(255);
        builder.HasIndex(r => r.NextAttemptAt);
    }
}
