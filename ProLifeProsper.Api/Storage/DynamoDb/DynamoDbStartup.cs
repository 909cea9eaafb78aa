using Microsoft.Extensions.Options;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Creates missing tables before the API serves traffic, when <c>DynamoDb:CreateTablesOnStartup</c> is on (the router turns
/// it on by default in Development when the configuration routes payments to DynamoDB). In production tables are created
/// by the explicit <c>create-dynamodb-tables</c> command (and a migration's start checks them).
/// </summary>
public sealed class DynamoDbStartup(DynamoDbTableInitializer initializer, IOptions<DynamoDbOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        options.Value.CreateTablesOnStartup == true ? initializer.EnsureTablesAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
