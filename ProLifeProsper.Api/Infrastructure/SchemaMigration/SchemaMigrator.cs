using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace ProLifeProsper.Api.Infrastructure.SchemaMigration;

/// <summary>
/// Schema migration: applies the EF Core migrations (<c>Infrastructure/Migrations</c>; not store migration,
/// <c>StoreMigration/</c>, which moves payments between PostgreSQL and DynamoDB): at the API's start-up
/// (<see cref="SchemaMigrationOnStartup"/>) or as the operator's <c>migrate-database</c> (the AppHost's database-setup
/// resource). Safe when replicas start together: EF Core takes a table lock on the migrations history while migrating,
/// and a replica that loses the race to create the database simply retries (its peer created it).
/// </summary>
public sealed class SchemaMigrator(IServiceProvider services, ILogger<SchemaMigrator> logger)
{
    private const int MaxAttempts = 5;

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var scope = services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<ProLifeProsperDbContext>();
                // A fresh database is created first, with its empty migrations history: MigrateAsync's own checks would log the
                // expected "database does not exist" and "relation does not exist" as errors on every first start.
                var creator = db.GetService<IRelationalDatabaseCreator>();
                if (!await creator.ExistsAsync(cancellationToken))
                {
                    await creator.CreateAsync(cancellationToken);
                    await db.Database.ExecuteSqlRawAsync(db.GetService<IHistoryRepository>().GetCreateIfNotExistsScript(), cancellationToken);
                }
                // An index built concurrently on a large table takes minutes (the default command time-out is 30 s).
                db.Database.SetCommandTimeout(TimeSpan.FromHours(1));
                await db.Database.MigrateAsync(cancellationToken);
                logger.LogInformation("Database schema is up to date");
                return;
            }
            catch (PostgresException e) when (attempt < MaxAttempts && e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable
            or PostgresErrorCodes.DuplicateColumn or PostgresErrorCodes.DuplicateObject)
            {
                logger.LogInformation("Another instance is creating the database ({SqlState}); retrying", e.SqlState);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
            }
        }
    }
}
