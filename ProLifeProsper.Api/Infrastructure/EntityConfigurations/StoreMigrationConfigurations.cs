using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ProLifeProsper.Api.Infrastructure.Rows;

namespace ProLifeProsper.Api.Infrastructure.EntityConfigurations;

internal sealed class RoutingStateConfiguration : IEntityTypeConfiguration<RoutingStateRow>
{
    public void Configure(EntityTypeBuilder<RoutingStateRow> builder)
    {
        builder.ToTable("routing_state", t => t.HasCheckConstraint("ck_routing_state_single_row", "id = 1"));
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.Phase).HasMaxLength(32);
        builder.Property(r => r.ChangedBy).HasMaxLength(200);
        builder.Property(r => r.DesiredConfiguration).HasMaxLength(32);
        builder.Property(r => r.StartedConfiguration).HasMaxLength(32);
    }
}

internal sealed class BackfillProgressConfiguration : IEntityTypeConfiguration<BackfillProgressRow>
{
    public void Configure(EntityTypeBuilder<BackfillProgressRow> builder)
    {
        builder.ToTable("backfill_progress", t => t.HasCheckConstraint("ck_backfill_progress_single_row", "id = 1"));
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.CheckpointRecordKey).HasMaxLength(255);
    }
}

internal sealed class ReverseCopyProgressConfiguration : IEntityTypeConfiguration<ReverseCopyProgressRow>
{
    public void Configure(EntityTypeBuilder<ReverseCopyProgressRow> builder)
    {
        builder.ToTable("reverse_copy_progress", t => t.HasCheckConstraint("ck_reverse_copy_progress_single_row", "id = 1"));
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).ValueGeneratedNever();
    }
}

internal sealed class VerificationConfiguration : IEntityTypeConfiguration<VerificationRow>
{
    public void Configure(EntityTypeBuilder<VerificationRow> builder)
    {
        builder.ToTable("migration_verifications");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.MismatchesJson).HasColumnType("jsonb");
        builder.HasIndex(r => r.CompletedAt);
    }
}

internal sealed class OutboxConfiguration : IEntityTypeConfiguration<OutboxRow>
{
    public void Configure(EntityTypeBuilder<OutboxRow> builder)
    {
        builder.Ignore(r => r.Age);
        builder.Ignore(r => r.SendBy);
        builder.Ignore(r => r.PutSent);
        builder.ToTable("payment_outbox");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).UseIdentityAlwaysColumn();
        builder.Property(r => r.Target).HasMaxLength(16);
        builder.Property(r => r.IdempotencyKey).HasMaxLength(255);
        builder.HasIndex(r => new { r.Target, r.NextAttemptAt });
        builder.HasIndex(r => new { r.TransactionId, r.Target });
        // A create whose key still has a DynamoDB write on its way home is refused (after a rollback), found by key.
        builder.HasIndex(r => new { r.OrganizationId, r.IdempotencyKey }).HasFilter("target = 'postgresql'")
            .HasDatabaseName("ix_payment_outbox_postgresql_key");
    }
}

internal sealed class LoadTestReportConfiguration : IEntityTypeConfiguration<LoadTestReportRow>
{
    public void Configure(EntityTypeBuilder<LoadTestReportRow> builder)
    {
        builder.ToTable("load_test_reports");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.Phase).HasMaxLength(32);
        builder.Property(r => r.ApiVersion).HasMaxLength(200);
        builder.Property(r => r.FailuresJson).HasColumnType("jsonb");
        builder.Property(r => r.ReportJson).HasColumnType("jsonb");
        builder.HasIndex(r => new { r.Phase, r.SubmittedAt });
    }
}
