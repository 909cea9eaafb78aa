using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Options;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Creates the tables that are missing and waits until they are ACTIVE. Idempotent: existing tables are
/// left as they are (but for a configured warm throughput above theirs, which is raised), and a peer creating the same
/// table at the same moment is not an error. Its calls are
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
        await WarmTablesAsync(cancellationToken);
    }

    /// <summary>
    /// Raises the warm throughput of existing tables and indexes to what is configured (never lowers it: DynamoDB cannot, and
    /// a table that took more once can take it again). A server that does not know warm throughput (dynalite) is logged.
    /// </summary>
    public async Task WarmTablesAsync(CancellationToken cancellationToken)
    {
        if (options.Value.WarmThroughput.Count == 0) return;
        foreach (var expected in DynamoDbTables.All(options.Value))
        {
            var table = (await _caller.CallAsync("describe_table", expected.TableName,
                ct => dynamo.DescribeTableAsync(new DescribeTableRequest { TableName = expected.TableName }, ct), cancellationToken)).Table;
            var update = WarmUpdate(expected, table);
            if (update is null) continue;
            try
            {
                await _caller.CallAsync("update_table", expected.TableName, ct => dynamo.UpdateTableAsync(update, ct), cancellationToken);
                logger.LogInformation("Raised the warm throughput of DynamoDB table {Table} and its indexes to the configured values", expected.TableName);
            }
            catch (AmazonDynamoDBException e)
            {
                logger.LogWarning("DynamoDB table {Table}: warm throughput not raised ({Error}); a spike above its current warm throughput may be throttled",
                    expected.TableName, e.Message);
            }
        }
    }

    /// <summary>The UpdateTable request that raises what is below the configured warm throughput; null when nothing is.</summary>
    public static UpdateTableRequest? WarmUpdate(CreateTableRequest expected, TableDescription actual)
    {
        var update = new UpdateTableRequest { TableName = expected.TableName };
        if (expected.WarmThroughput is { } tableWarm && Below(tableWarm, actual.WarmThroughput?.ReadUnitsPerSecond, actual.WarmThroughput?.WriteUnitsPerSecond))
            update.WarmThroughput = Higher(tableWarm, actual.WarmThroughput?.ReadUnitsPerSecond, actual.WarmThroughput?.WriteUnitsPerSecond);
        foreach (var index in expected.GlobalSecondaryIndexes ?? [])
        {
            var current = actual.GlobalSecondaryIndexes?.FirstOrDefault(i => i.IndexName == index.IndexName)?.WarmThroughput;
            if (index.WarmThroughput is { } indexWarm && Below(indexWarm, current?.ReadUnitsPerSecond, current?.WriteUnitsPerSecond))
                (update.GlobalSecondaryIndexUpdates ??= []).Add(new GlobalSecondaryIndexUpdate
                {
                    Update = new UpdateGlobalSecondaryIndexAction
                    {
                        IndexName = index.IndexName,
                        WarmThroughput = Higher(indexWarm, current?.ReadUnitsPerSecond, current?.WriteUnitsPerSecond),
                    },
                });
        }
        return update.WarmThroughput is null && update.GlobalSecondaryIndexUpdates is null ? null : update;
    }

    // Each dimension at least what the table has: DynamoDB only raises warm throughput, so asking less of one would be refused.
    private static WarmThroughput Higher(WarmThroughput wanted, long? read, long? write) => new()
    {
        ReadUnitsPerSecond = Math.Max(wanted.ReadUnitsPerSecond ?? 0, read ?? 0) is > 0 and var r ? r : null,
        WriteUnitsPerSecond = Math.Max(wanted.WriteUnitsPerSecond ?? 0, write ?? 0) is > 0 and var w ? w : null,
    };

    private static bool Below(WarmThroughput wanted, long? read, long? write) =>
        (wanted.ReadUnitsPerSecond ?? 0) > (read ?? 0) || (wanted.WriteUnitsPerSecond ?? 0) > (write ?? 0);

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
