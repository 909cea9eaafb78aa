using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Api.Infrastructure.SchemaMigration;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Api.Tests.Stores;

public sealed class SchemaMigratorTests
{
    [Fact]
    public async Task Replicas_starting_together_migrate_one_fresh_database_safely()
    {
        var server = await PostgresServer.GetAsync();
        var connectionString = server.ConnectionStringFor(PostgresServer.NewDatabaseName("migrate"));

        var replicas = Enumerable.Range(0, 4).Select(_ =>
        {
            var services = new ServiceCollection()
                .AddDbContext<ProLifeProsperDbContext>(o => o.UseNpgsql(connectionString).UseSnakeCaseNamingConvention())
                .BuildServiceProvider();
            return new SchemaMigrator(services, NullLogger<SchemaMigrator>.Instance);
        }).ToList();
        await Task.WhenAll(replicas.Select(r => Task.Run(() => r.MigrateAsync(default))));

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM \"__EFMigrationsHistory\"", connection);
        var applied = (long)(await command.ExecuteScalarAsync())!;
        await using var context = new ProLifeProsperDbContext(new DbContextOptionsBuilder<ProLifeProsperDbContext>().UseNpgsql(connectionString).Options);
        Assert.Equal(context.Database.GetMigrations().Count(), applied);
    }

    [Fact]
    public async Task Start_up_leaves_the_schema_alone_when_Database_MigrateOnStartup_is_false()
    {
        var server = await PostgresServer.GetAsync();
        var database = PostgresServer.NewDatabaseName("nomigrate");
        var services = new ServiceCollection()
            .AddDbContext<ProLifeProsperDbContext>(o => o.UseNpgsql(server.ConnectionStringFor(database)).UseSnakeCaseNamingConvention())
            .BuildServiceProvider();
        var migrator = new SchemaMigrator(services, NullLogger<SchemaMigrator>.Instance);

        await new SchemaMigrationOnStartup(migrator, Options.Create(new DatabaseOptions { MigrateOnStartup = false }), NullLogger<SchemaMigrationOnStartup>.Instance)
            .StartAsync(default);

        await using var connection = new NpgsqlConnection(server.ConnectionStringFor("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = database } } };
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
    }
}
