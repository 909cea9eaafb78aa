using ProLifeProsper.Api.Storage.DynamoDb;

namespace ProLifeProsper.Api.Extensions;

/// <summary>One-off operator commands run by the API binary instead of serving, e.g. in a deployment step.</summary>
public static class AdminCommands
{
    public const string CreateDynamoDbTables = "create-dynamodb-tables";

    /// <summary>Runs the command named in <paramref name="args"/>, if any; true when one ran (the host should then exit).</summary>
    public static async Task<bool> TryRunAsync(this WebApplication app, string[] args)
    {
        if (!args.Contains(CreateDynamoDbTables)) return false;
        await app.Services.GetRequiredService<DynamoDbTableInitializer>().EnsureTablesAsync(CancellationToken.None);
        app.Logger.LogInformation("DynamoDB tables are in place");
        return true;
    }
}
