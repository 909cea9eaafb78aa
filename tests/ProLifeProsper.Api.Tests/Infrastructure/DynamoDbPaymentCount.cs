using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Testing;

namespace ProLifeProsper.Api.Tests.Infrastructure;

/// <summary>What an API's DynamoDB tables hold, read directly (consistently, no faults).</summary>
public static class DynamoDbPaymentCount
{
    /// <summary>Payments stored for one organization.</summary>
    public static async Task<long> OfAsync(string tablePrefix, Guid organizationId)
    {
        using var client = (await DynaliteServer.GetAsync()).CreateClient();
        var response = await client.QueryAsync(new QueryRequest
        {
            TableName = new DynamoDbOptions { TablePrefix = tablePrefix }.TransactionsTableName,
            KeyConditionExpression = "organizationId = :org",
            ExpressionAttributeValues = new() { [":org"] = new AttributeValue(organizationId.ToString("D")) },
            Select = Select.COUNT,
            ConsistentRead = true,
        });
        return response.Count ?? 0;
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
