using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Testing;

namespace ProLifeProsper.Api.Tests.Apis;

// The same API contract, with payments routed to DynamoDB (dynalite) by configuration alone.

public sealed class PaymentsApiOnDynamoDbTests(HighScaleApiFactory factory) : PaymentsApiTests<HighScaleApiFactory>(factory);

public sealed class TenantIsolationApiOnDynamoDbTests(HighScaleApiFactory factory) : TenantIsolationApiTests<HighScaleApiFactory>(factory);

public sealed class IdempotencyApiOnDynamoDbTests(HighScaleApiFactory factory) : IdempotencyApiTests<HighScaleApiFactory>(factory)
{
    protected override async Task<long> CountStoredPaymentsAsync(Guid organizationId)
    {
        using var client = (await DynaliteServer.GetAsync()).CreateClient();
        var response = await client.QueryAsync(new QueryRequest
        {
            TableName = Factory.TablePrefix + "pro_life_prosper_transactions",
            KeyConditionExpression = "organizationId = :org",
            ExpressionAttributeValues = new() { [":org"] = new AttributeValue(organizationId.ToString("D")) },
            Select = Amazon.DynamoDBv2.Select.COUNT,
            ConsistentRead = true,
        });
        return response.Count ?? 0;
    }
}
