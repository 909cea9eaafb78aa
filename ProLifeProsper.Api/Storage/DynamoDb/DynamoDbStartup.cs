using Microsoft.Extensions.Options;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Creates missing tables before the API serves traffic, when allowed: by default in Development (and tests);
/// in production tables are created by the explicit <c>create-dynamodb-tables</c> command instead.
/// </summary>
public sealed class DynamoDbStartup(DynamoDbTableInitializer initializer, IOptions<DynamoDbOptions> options, IHostEnvironment environment) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        options.Value.CreateTablesOnStartup ?? environment.IsDevelopment()
            ? initializer.EnsureTablesAsync(cancellationToken)
            : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
