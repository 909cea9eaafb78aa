using Microsoft.EntityFrameworkCore;
using Npgsql;
using ProLifeProsper.Api.Infrastructure.Rows;
using ProLifeProsper.Domain.Campaigns;
using ProLifeProsper.Domain.Donors;
using ProLifeProsper.Domain.Organizations;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Api.Infrastructure.Leases;
using ProLifeProsper.Api.Apis.Contracts;

namespace ProLifeProsper.Api.Infrastructure;

/// <summary>
/// The PostgreSQL schema. Organizations, campaigns and donors are read and written through EF Core;
/// the payment tables are defined here (so migrations own the schema) but served by
/// <see cref="Storage.PostgreSql.PostgreSqlPaymentTransactionStore"/> with hand-written SQL on the hot path.
/// </summary>
public sealed class ProLifeProsperDbContext(DbContextOptions<ProLifeProsperDbContext> options) : DbContext(options)
{
    public DbSet<Organization> Organizations => Set<Organization>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Campaign> Campaigns => Set<Campaign>();
    public DbSet<Donor> Donors => Set<Donor>();
    public DbSet<PaymentTransaction> PaymentTransactions => Set<PaymentTransaction>();
    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();
    public DbSet<RoutingStateRow> RoutingState => Set<RoutingStateRow>();
    public DbSet<BackfillProgressRow> BackfillProgress => Set<BackfillProgressRow>();
    public DbSet<VerificationRow> Verifications => Set<VerificationRow>();
    public DbSet<OutboxRow> Outbox => Set<OutboxRow>();
    public DbSet<ReverseCopyProgressRow> ReverseCopyProgress => Set<ReverseCopyProgressRow>();
    public DbSet<LoadTestReportRow> LoadTestReports => Set<LoadTestReportRow>();
    public DbSet<WorkerLeaseRow> WorkerLeases => Set<WorkerLeaseRow>();
    public DbSet<RefundPayoutRow> RefundPayouts => Set<RefundPayoutRow>();
    public DbSet<OrganizationShardChangeRow> OrganizationShardChanges => Set<OrganizationShardChangeRow>();
    public DbSet<IdempotentCreateRow> IdempotentCreates => Set<IdempotentCreateRow>();

    /// <summary>How every instance talks to PostgreSQL: the API's pool, and the tools and tests that migrate a database.</summary>
    public static void UsePostgreSql(DbContextOptionsBuilder options, NpgsqlDataSource dataSource) =>
        options.UseNpgsql(dataSource).UseSnakeCaseNamingConvention();

    /// <summary>Brings the database behind <paramref name="dataSource"/> to the checked-in schema (benchmarks, load tests, tests).</summary>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        var options = new DbContextOptionsBuilder<ProLifeProsperDbContext>();
        UsePostgreSql(options, dataSource);
        await using var db = new ProLifeProsperDbContext(options.Options);
        await db.Database.MigrateAsync(cancellationToken);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(ProLifeProsperDbContext).Assembly);
}
