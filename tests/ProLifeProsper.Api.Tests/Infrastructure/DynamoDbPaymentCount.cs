using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Testing;

namespace ProLifeProsper.Api.Tests.Infrastructure;

/// <summary>Payments stored in an API's DynamoDB tables for one organization, read directly (consistently, no faults).</summary>
public static class DynamoDbPaymentCount
{
    public static async Task<long> OfAsync(string tablePrefix, Guid organizationId)
    {
        using var client = (await DynaliteServer.GetAsync()).CreateClient();
        var response = await client.QueryAsync(new QueryRequest
        {
            TableName = tablePrefix + "pro_life_prosper_transactions",
            KeyConditionExpression = "organizationId = :org",
            ExpressionAttributeValues = new() { [":org"] = new AttributeValue(organizationId.ToString("D")) },
            Select = Select.COUNT,
            ConsistentRead = true,
        });
        return response.Count ?? 0;
    }
}
