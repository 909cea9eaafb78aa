using System.Net;
using System.Text.Json.Nodes;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>Readiness (<c>/health</c>) covers the DynamoDB tables payments are routed to, as the code expects them.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task Readiness_is_503_with_what_to_do_when_a_table_is_missing_or_lacks_an_index()
    {
        await using var factory = new HighScaleApiFactory();
        await factory.InitializeAsync();
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);

        using var dynamo = (await DynaliteServer.GetAsync()).CreateClient();
        var options = new DynamoDbOptions { TablePrefix = factory.TablePrefix, WriteShards = 4 };
        await dynamo.DeleteTableAsync(options.IdempotencyTableName);
        var missing = await WaitForNotReadyAsync(client);
        Assert.Contains($"table {options.IdempotencyTableName} does not exist", missing);
        Assert.Contains("create-dynamodb-tables", missing);

        // The table comes back, but the transactions table lacks its pending index (created by hand, or an older definition).
        await GoneAsync(dynamo, options.IdempotencyTableName);
        await dynamo.CreateTableAsync(DynamoDbTables.Idempotency(options));
        await dynamo.DeleteTableAsync(options.TransactionsTableName);
        await GoneAsync(dynamo, options.TransactionsTableName);
        var withoutIndex = DynamoDbTables.Transactions(options);
        withoutIndex.GlobalSecondaryIndexes.RemoveAll(i => i.IndexName == PaymentItemKeys.StatusTimestampIndex);
        withoutIndex.AttributeDefinitions.RemoveAll(a => a.AttributeName == PaymentItemKeys.StatusShard);
        await dynamo.CreateTableAsync(withoutIndex);
        var lacking = await WaitForNotReadyAsync(client, mentioning: PaymentItemKeys.StatusTimestampIndex);
        Assert.Contains($"index {PaymentItemKeys.StatusTimestampIndex} of table {options.TransactionsTableName} is missing", lacking);
    }

    [Fact]
    public void An_index_still_being_built_or_projecting_less_is_a_problem_and_a_matching_table_is_not()
    {
        var options = new DynamoDbOptions { TablePrefix = "t_", WriteShards = 4 };
        var expected = DynamoDbTables.Transactions(options);
        TableDescription Described() => new()
        {
            TableName = expected.TableName, TableStatus = TableStatus.ACTIVE, KeySchema = expected.KeySchema,
            GlobalSecondaryIndexes = expected.GlobalSecondaryIndexes.Select(i => new GlobalSecondaryIndexDescription
            {
                IndexName = i.IndexName, KeySchema = i.KeySchema, IndexStatus = IndexStatus.ACTIVE,
                Projection = new Projection { ProjectionType = i.Projection.ProjectionType, NonKeyAttributes = [.. i.Projection.NonKeyAttributes ?? []] },
            }).ToList(),
        };
        Assert.Empty(DynamoDbSchemaCheck.Problems(expected, Described()));

        // A table of an earlier release still has the hourly index nothing reads or writes any more: no problem.
        var earlier = Described();
        earlier.GlobalSecondaryIndexes.Add(new GlobalSecondaryIndexDescription
        {
            IndexName = DynamoDbTables.RetiredHourlyIndex, IndexStatus = IndexStatus.ACTIVE, KeySchema = [new(PaymentItemKeys.LegacyDateHourShard, KeyType.HASH)],
            Projection = new Projection { ProjectionType = ProjectionType.KEYS_ONLY },
        });
        Assert.Empty(DynamoDbSchemaCheck.Problems(expected, earlier));

        var building = Described();
        building.GlobalSecondaryIndexes[1].IndexStatus = IndexStatus.CREATING;
        Assert.Contains(DynamoDbSchemaCheck.Problems(expected, building), p => p.Contains("CREATING") && p.Contains("until it is ACTIVE"));

        var narrower = Described();
        narrower.GlobalSecondaryIndexes.Single(i => i.IndexName == PaymentItemKeys.StatusTimestampIndex).Projection.ProjectionType = ProjectionType.KEYS_ONLY;
        Assert.Contains(DynamoDbSchemaCheck.Problems(expected, narrower), p => p.Contains("projects"));

        var rekeyed = Described();
        rekeyed.KeySchema = [new(PaymentItemKeys.TransactionId, KeyType.HASH)];
        Assert.Contains(DynamoDbSchemaCheck.Problems(expected, rekeyed), p => p.Contains("is keyed"));
    }

    private static async Task GoneAsync(IAmazonDynamoDB dynamo, string table)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await dynamo.DescribeTableAsync(table);
            }
            catch (ResourceNotFoundException)
            {
                return;
            }
            Assert.True(attempt < 100, $"table {table} was not deleted");
            await Task.Delay(100);
        }
    }

    private static async Task<string> WaitForNotReadyAsync(HttpClient client, string? mentioning = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var response = await client.GetAsync("/health");
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && (mentioning is null || body.Contains(mentioning)))
            {
                var dynamo = JsonNode.Parse(body)!["checks"]!.AsArray().Single(c => (string)c!["name"]! == "dynamodb")!;
                Assert.Equal("Unhealthy", (string)dynamo["status"]!);
                return (string)dynamo["description"]!;
            }
            Assert.True(DateTime.UtcNow < deadline, $"readiness did not fail: {(int)response.StatusCode} {body}");
            await Task.Delay(250);
        }
    }
}
