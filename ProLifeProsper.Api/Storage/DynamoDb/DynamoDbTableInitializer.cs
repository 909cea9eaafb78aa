using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Options;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Creates the tables that are missing and waits until they are ACTIVE. Idempotent: existing tables keep their schema
/// (their provisioned units and warm throughput are brought to the configured ones, see <see cref="UpdateTablesAsync"/>),
/// and a peer creating the same table at the same moment is not an error. Its calls are
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
        await UpdateTablesAsync(cancellationToken);
    }

    /// <summary>
    /// Brings existing tables to the configured capacity: in provisioned mode the units of each table and index (switching an
    /// on-demand table to provisioned), then the warm throughput (raised, never lowered). One UpdateTable at a time per table,
    /// as DynamoDB requires: each waits until the table and its indexes are ACTIVE, and nothing is sent when nothing differs.
    /// A refused update (a server without warm throughput, DynamoDB's daily limit on decreases) is logged: the table keeps
    /// serving with what it has.
    /// </summary>
    public async Task UpdateTablesAsync(CancellationToken cancellationToken)
    {
        foreach (var expected in DynamoDbTables.All(options.Value))
        {
            var table = await DescribeWhenActiveAsync(expected.TableName, cancellationToken);
            if (table is not null && expected.BillingMode == BillingMode.PAY_PER_REQUEST && IsProvisioned(table))
                // On-demand is the default: a table provisioned by other means (auto scaling) is not switched by a key left unset.
                logger.LogWarning("DynamoDB table {Table} is provisioned but DynamoDb:BillingMode is OnDemand: left provisioned", expected.TableName);
            if (table is not null && CapacityUpdate(expected, table) is { } capacity)
            {
                await SendAsync(capacity, "provisioned capacity", cancellationToken);
                table = await DescribeWhenActiveAsync(expected.TableName, cancellationToken);
            }
            if (table is null)
                logger.LogWarning("DynamoDB table {Table} is still being updated: its capacity was not checked; run create-dynamodb-tables again later", expected.TableName);
            else if (WarmUpdate(expected, table) is { } warm)
                await SendAsync(warm, "warm throughput", cancellationToken);
        }
    }

    private async Task SendAsync(UpdateTableRequest update, string what, CancellationToken cancellationToken)
    {
        try
        {
            await _caller.CallAsync("update_table", update.TableName, ct => dynamo.UpdateTableAsync(update, ct), cancellationToken);
            logger.LogWarning("Raised the {What} of DynamoDB table {Table} and its indexes to the configured values", what, update.TableName);
        }
        catch (AmazonDynamoDBException e)
        {
            logger.LogWarning("DynamoDB table {Table}: {What} not updated ({Error}); it keeps what it has", update.TableName, what, e.Message);
        }
    }

    private static bool IsProvisioned(TableDescription table) =>
        // DynamoDB leaves the summary out for a table that was always provisioned.
        table.BillingModeSummary?.BillingMode is not { } mode || mode == BillingMode.PROVISIONED;

    /// <summary>
    /// The UpdateTable request that raises a provisioned table's and its indexes' units to the configured ones (never lowers
    /// them), or switches an on-demand table to provisioned (which needs the units of every index); null when the
    /// configuration is on-demand or nothing is below it.
    /// </summary>
    public static UpdateTableRequest? CapacityUpdate(CreateTableRequest expected, TableDescription actual)
    {
        if (expected.BillingMode != BillingMode.PROVISIONED) return null;
        var switching = !IsProvisioned(actual);
        var update = new UpdateTableRequest { TableName = expected.TableName, BillingMode = switching ? BillingMode.PROVISIONED : null };
        if (switching) update.ProvisionedThroughput = expected.ProvisionedThroughput;
        else if (Below(expected.ProvisionedThroughput, actual.ProvisionedThroughput)) update.ProvisionedThroughput = Raised(expected.ProvisionedThroughput, actual.ProvisionedThroughput);
        foreach (var index in expected.GlobalSecondaryIndexes ?? [])
        {
            // An index the table lacks is the schema check's business, not a capacity change.
            if (actual.GlobalSecondaryIndexes?.FirstOrDefault(i => i.IndexName == index.IndexName) is not { } current) continue;
            if (switching || Below(index.ProvisionedThroughput, current.ProvisionedThroughput))
                (update.GlobalSecondaryIndexUpdates ??= []).Add(new GlobalSecondaryIndexUpdate
                {
                    Update = new UpdateGlobalSecondaryIndexAction
                    {
                        IndexName = index.IndexName,
                        ProvisionedThroughput = switching ? index.ProvisionedThroughput : Raised(index.ProvisionedThroughput, current.ProvisionedThroughput),
                    },
                });
        }
        // DynamoDB wants the units of every index of the table when it switches: an index this code no longer defines (the
        // retired hourly index of an older table) gets the table's, since an older item's change still writes to it.
        if (switching)
        {
            var defined = (expected.GlobalSecondaryIndexes ?? []).Select(i => i.IndexName).ToHashSet();
            foreach (var retired in (actual.GlobalSecondaryIndexes ?? []).Where(i => !defined.Contains(i.IndexName)))
                (update.GlobalSecondaryIndexUpdates ??= []).Add(new GlobalSecondaryIndexUpdate
                {
                    Update = new UpdateGlobalSecondaryIndexAction { IndexName = retired.IndexName, ProvisionedThroughput = expected.ProvisionedThroughput },
                });
        }
        return update.ProvisionedThroughput is null && update.GlobalSecondaryIndexUpdates is null ? null : update;
    }

    // Capacity is only ever raised here: a configuration that is lower than a live table (a pool left to its default, a
    // table an auto-scaler raised) must not cut capacity under live traffic. Lowering is the operator's deliberate act.
    private static bool Below(ProvisionedThroughput wanted, ProvisionedThroughputDescription? actual) =>
        wanted.ReadCapacityUnits > (actual?.ReadCapacityUnits ?? 0) || wanted.WriteCapacityUnits > (actual?.WriteCapacityUnits ?? 0);

    private static ProvisionedThroughput Raised(ProvisionedThroughput wanted, ProvisionedThroughputDescription? actual) =>
        new(Math.Max(wanted.ReadCapacityUnits ?? 0, actual?.ReadCapacityUnits ?? 0), Math.Max(wanted.WriteCapacityUnits ?? 0, actual?.WriteCapacityUnits ?? 0));

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

    /// <summary>The table once it and its indexes are ACTIVE (an UpdateTable may only start then); null if they are not within a minute.</summary>
    private async Task<TableDescription?> DescribeWhenActiveAsync(string table, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            var description = (await _caller.CallAsync("describe_table", table,
                ct => dynamo.DescribeTableAsync(new DescribeTableRequest { TableName = table }, ct), cancellationToken)).Table;
            if (description.TableStatus == TableStatus.ACTIVE && (description.GlobalSecondaryIndexes ?? []).All(i => i.IndexStatus == IndexStatus.ACTIVE))
                return description;
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
        return null;
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
