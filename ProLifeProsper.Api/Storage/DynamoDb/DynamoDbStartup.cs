using Microsoft.Extensions.Options;

using ProLifeProsper.Api.Routing;
namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Creates missing tables before the API serves traffic, when allowed: when <c>DynamoDb:CreateTablesOnStartup</c>
/// is set, or by default in Development when the configuration routes payments to DynamoDB. In production tables
/// are created by the explicit <c>create-dynamodb-tables</c> command (and a migration's start checks them).
/// </summary>
public sealed class DynamoDbStartup(DynamoDbTableInitializer initializer, IOptions<DynamoDbOptions> options, IHostEnvironment environment,
    Routing.RoutingConfiguration routing) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        options.Value.CreateTablesOnStartup ?? (environment.IsDevelopment() && routing.PaymentsStore == Routing.PaymentsStoreKind.DynamoDb)
            ? initializer.EnsureTablesAsync(cancellationToken)
            : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
