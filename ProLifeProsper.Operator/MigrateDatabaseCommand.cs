using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Api.Infrastructure.SchemaMigration;

namespace ProLifeProsper.Operator;

/// <summary><c>migrate-database</c>: applies the EF Core schema migrations, the code the API runs at start-up (unless <c>Database:MigrateOnStartup</c> is false).</summary>
internal static class MigrateDatabaseCommand
{
    public static Command Create()
    {
        var command = new Command("migrate-database", "Create the PostgreSQL database if needed and apply the schema migrations (idempotent).");
        command.SetHostAction(async (_, host, cancellationToken) =>
        {
            await host.Services.GetRequiredService<SchemaMigrator>().MigrateAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
