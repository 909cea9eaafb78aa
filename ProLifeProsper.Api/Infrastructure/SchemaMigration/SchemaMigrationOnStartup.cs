using Microsoft.Extensions.Options;

namespace ProLifeProsper.Api.Infrastructure.SchemaMigration;

/// <summary>Migrates the schema before the API serves traffic, unless <c>Database:MigrateOnStartup</c> is false (the schema is then someone else's job).</summary>
public sealed class SchemaMigrationOnStartup(SchemaMigrator migrator, IOptions<DatabaseOptions> options, ILogger<SchemaMigrationOnStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.MigrateOnStartup) return migrator.MigrateAsync(cancellationToken);
        logger.LogInformation("Database:MigrateOnStartup is false: the schema is expected to be migrated already");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
