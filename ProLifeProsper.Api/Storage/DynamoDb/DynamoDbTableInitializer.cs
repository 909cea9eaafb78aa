using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Options;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Creates the tables that are missing and waits until they are ACTIVE. Idempotent: existing tables are
/// left as they are, and a peer creating the same table at the same moment is not an error.
/// </summary>
public sealed class DynamoDbTableInitializer(IAmazonDynamoDB dynamo, IOptions<DynamoDbOptions> options, ILogger<DynamoDbTableInitializer> logger)
{
    public async Task EnsureTablesAsync(CancellationToken cancellationToken)
    {
        foreach (var request in DynamoDbTables.All(options.Value))
        {
            if (await StatusAsync(request.TableName, cancellationToken) is null)
            {
                try
                {
                    await dynamo.CreateTableAsync(request, cancellationToken);
                    logger.LogInformation("Created DynamoDB table {Table} ({BillingMode})", request.TableName, request.BillingMode);
                }
                catch (ResourceInUseException)
                {
                    // Created concurrently by another instance.
                }
            }
            await WaitUntilActiveAsync(request.TableName, cancellationToken);
        }
    }

    private async Task WaitUntilActiveAsync(string table, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if (await StatusAsync(table, cancellationToken) == TableStatus.ACTIVE) return;
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
        throw new TimeoutException($"DynamoDB table {table} did not become ACTIVE.");
    }

    private async Task<TableStatus?> StatusAsync(string table, CancellationToken cancellationToken)
    {
        try
        {
            return (await dynamo.DescribeTableAsync(table, cancellationToken)).Table.TableStatus;
        }
        catch (ResourceNotFoundException)
        {
            return null;
        }
    }
}
