using Microsoft.EntityFrameworkCore;
using ProLifeProsper.Domain.Campaigns;
using ProLifeProsper.Domain.Donors;
using ProLifeProsper.Domain.Organizations;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Infrastructure;

/// <summary>
/// The PostgreSQL schema. Organizations, campaigns and donors are read and written through EF Core;
/// the payment tables are defined here (so migrations own the schema) but served by
/// <see cref="Storage.PostgreSql.PostgreSqlPaymentTransactionStore"/> with hand-written SQL on the hot path.
/// </summary>
public sealed class ProLifeProsperDbContext(DbContextOptions<ProLifeProsperDbContext> options) : DbContext(options)
{
    public DbSet<Organization> Organizations => Set<Organization>();
    public DbSet<Campaign> Campaigns => Set<Campaign>();
    public DbSet<Donor> Donors => Set<Donor>();
    public DbSet<PaymentTransaction> PaymentTransactions => Set<PaymentTransaction>();
    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();
    public DbSet<PaymentMigration.RoutingStateRow> RoutingState => Set<PaymentMigration.RoutingStateRow>();
    public DbSet<PaymentMigration.BackfillProgressRow> BackfillProgress => Set<PaymentMigration.BackfillProgressRow>();
    public DbSet<PaymentMigration.VerificationRow> Verifications => Set<PaymentMigration.VerificationRow>();
    public DbSet<PaymentMigration.OutboxRow> Outbox => Set<PaymentMigration.OutboxRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(ProLifeProsperDbContext).Assembly);
}
