using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Options;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Creates the tables that are missing and waits until they are ACTIVE. Idempotent: existing tables are
/// left as they are, and a peer creating the same table at the same moment is not an error. Its calls are
/// retried like the store's (through <see cref="DynamoDbCaller"/>): a start-up must survive a throttle or a reset.
/// </summary>
public sealed class DynamoDbTableInitializer(IAmazonDynamoDB dynamo, IOptions<DynamoDbOptions> options, ILogger<DynamoDbTableInitializer> logger,
    DynamoDbCaller? caller = null)
{
    // Without a caller (tools that have no metrics) the calls are retried all the same, uncounted.
    private readonly DynamoDbCaller _caller = caller ?? new DynamoDbCaller(null, options);

    public async Task EnsureTablesAsync(CancellationToken cancellationToken)
    {
        foreach (var request in DynamoDbTables.All(options.Value))
        {
            if (await StatusAsync(request.TableName, cancellationToken) is null)
            {
                try
                {
                    await _caller.CallAsync("create_table", request.TableName, ct => dynamo.CreateTableAsync(request, ct), cancellationToken);
                    logger.LogInformation("Created DynamoDB table {Table} ({BillingMode})", request.TableName, request.BillingMode);
                }
                catch (ResourceInUseException)
                {
                    // Created concurrently by another instance (or by our own first attempt, whose answer was lost).
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
            var response = await _caller.CallAsync("describe_table", table,
                ct => dynamo.DescribeTableAsync(new DescribeTableRequest { TableName = table }, ct), cancellationToken);
            return response.Table.TableStatus;
        }
        catch (ResourceNotFoundException)
        {
            return null;
        }
    }
}
