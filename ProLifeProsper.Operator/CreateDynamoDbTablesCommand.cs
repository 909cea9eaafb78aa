using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ProLifeProsper.Api.Storage.DynamoDb;

namespace ProLifeProsper.Operator;

/// <summary><c>create-dynamodb-tables</c>: creates the DynamoDB tables and indexes, or brings their capacity settings up to the configured ones.</summary>
internal static class CreateDynamoDbTablesCommand
{
    public static Command Create()
    {
        var command = new Command("create-dynamodb-tables", "Create the DynamoDB tables, or update their capacity settings (idempotent).");
        command.SetHostAction(async (_, host, cancellationToken) =>
        {
            await host.Services.GetRequiredService<DynamoDbTableInitializer>().EnsureTablesAsync(cancellationToken);
            host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(CreateDynamoDbTablesCommand)).LogInformation("DynamoDB tables are in place");
            return 0;
        });
        return command;
    }
}
