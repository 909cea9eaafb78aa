using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Domain.Organizations;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>The move of organization keys to their own table keeps every existing key working, and going back keeps it too.</summary>
public sealed class ApiKeyMigrationTests
{
    private const string BeforeKeyTable = "20261128064057_StoreMigrationSafety";

    [Fact]
    public async Task Keys_issued_before_the_key_table_still_work_after_the_upgrade_and_survive_a_downgrade()
    {
        var server = await PostgresServer.GetAsync();
        var connectionString = server.ConnectionStringFor(PostgresServer.NewDatabaseName("keys"));
        await using (var db = Context(connectionString))
            await db.GetService<IMigrator>().MigrateAsync(BeforeKeyTable);
        var organizationId = Guid.CreateVersion7();
        var key = OrganizationApiKey.Generate();
        await ExecuteAsync(connectionString, "INSERT INTO organizations (id, name, api_key_hash, created_at) VALUES ($1, 'Before', $2, now())",
            organizationId, OrganizationApiKey.Hash(key));

        // The API migrates the database at start-up; the key issued before keeps working.
        await using (var api = new ApiFactory { SharedConnectionString = connectionString })
        {
            await api.InitializeAsync();
            using var client = api.CreateClient(key);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/organizations/{organizationId}")).StatusCode);
        }

        await using (var db = Context(connectionString))
            await db.GetService<IMigrator>().MigrateAsync(BeforeKeyTable);
        Assert.Equal(OrganizationApiKey.Hash(key), await ScalarAsync(connectionString, "SELECT api_key_hash FROM organizations WHERE id = $1", organizationId));
    }

    private static ProLifeProsperDbContext Context(string connectionString) =>
        new(new DbContextOptionsBuilder<ProLifeProsperDbContext>().UseNpgsql(connectionString).UseSnakeCaseNamingConvention().Options);

    private static async Task ExecuteAsync(string connectionString, string sql, params object[] values)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(string connectionString, string sql, params object[] values)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        return await command.ExecuteScalarAsync();
    }
}
