using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Api.Tests.Infrastructure;

/// <summary>What an API's DynamoDB tables hold, read directly (consistently, no faults).</summary>
public static class DynamoDbPaymentCount
{
    /// <summary>Payments stored for one organization, in whichever of its partitions (a consistent scan: test tables are small).</summary>
    public static async Task<long> OfAsync(string tablePrefix, Guid organizationId)
    {
        using var client = (await DynaliteServer.GetAsync()).CreateClient();
        long count = 0;
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var page = await client.ScanAsync(new ScanRequest
            {
                TableName = new DynamoDbOptions { TablePrefix = tablePrefix }.TransactionsTableName,
                FilterExpression = "organizationId = :org",
                ExpressionAttributeValues = new() { [":org"] = new AttributeValue(organizationId.ToString("D")) },
                Select = Select.COUNT,
                ConsistentRead = true,
                ExclusiveStartKey = start,
            });
            count += page.Count ?? 0;
            start = page.LastEvaluatedKey is { Count: > 0 } next ? next : null;
        }
        while (start is not null);
        return count;
    }

    /// <summary>Payments stored under each of the organization's first <paramref name="shards"/> partition keys.</summary>
    public static async Task<int[]> PerPartitionAsync(string tablePrefix, Guid organizationId, int shards)
    {
        using var client = (await DynaliteServer.GetAsync()).CreateClient();
        var counts = new int[shards];
        for (var shard = 0; shard < shards; shard++)
        {
            var response = await client.QueryAsync(new QueryRequest
            {
                TableName = new DynamoDbOptions { TablePrefix = tablePrefix }.TransactionsTableName,
                KeyConditionExpression = "#pk = :pk",
                ExpressionAttributeNames = new() { ["#pk"] = PaymentItemKeys.Partition },
                ExpressionAttributeValues = new() { [":pk"] = new AttributeValue(PaymentItemKeys.PartitionOf(organizationId, shard)) },
                Select = Select.COUNT,
                ConsistentRead = true,
            });
            counts[shard] = response.Count ?? 0;
        }
        return counts;
    }

    /// <summary>Every item of both tables (payments, idempotency records), all organizations: "payments,records".</summary>
    public static async Task<string> AllItemsAsync(string tablePrefix)
    {
        using var client = (await DynaliteServer.GetAsync()).CreateClient();
        var options = new DynamoDbOptions { TablePrefix = tablePrefix };
        var counts = new List<long>();
        foreach (var table in new[] { options.TransactionsTableName, options.IdempotencyTableName })
        {
            long count = 0;
            Dictionary<string, AttributeValue>? start = null;
            do
            {
                var page = await client.ScanAsync(new ScanRequest { TableName = table, Select = Select.COUNT, ConsistentRead = true, ExclusiveStartKey = start });
                count += page.Count ?? 0;
                start = page.LastEvaluatedKey is { Count: > 0 } next ? next : null;
            }
            while (start is not null);
            counts.Add(count);
        }
        return string.Join(",", counts);
    }
}
