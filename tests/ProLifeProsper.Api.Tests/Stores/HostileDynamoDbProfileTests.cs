using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using ProLifeProsper.LocalInfrastructure;
using ProLifeProsper.Testing.Faults;
using ProLifeProsper.Api.Storage.DynamoDb;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>
/// The hostile DynamoDB itself, one fault at a time against real dynalite: each does what it says (and what the
/// SDK makes of it is what DynamoDbCaller has to handle), and the ledger books it.
/// </summary>
public sealed class HostileDynamoDbProfileTests : IAsyncLifetime
{
    private const string Index = "byGroup";
    private readonly string _table = DynaliteServer.NewTablePrefix("profile") + "items";
    private DynaliteServer _server = null!;
    private IAmazonDynamoDB _plain = null!;

    public async Task InitializeAsync()
    {
        _server = await DynaliteServer.GetAsync();
        _plain = _server.CreateClient();
        await _plain.CreateTableAsync(new CreateTableRequest
        {
            TableName = _table,
            BillingMode = BillingMode.PAY_PER_REQUEST,
            AttributeDefinitions = [new("id", ScalarAttributeType.S), new("group", ScalarAttributeType.S)],
            KeySchema = [new("id", KeyType.HASH)],
            GlobalSecondaryIndexes =
            [
                new GlobalSecondaryIndex { IndexName = Index, KeySchema = [new("group", KeyType.HASH), new("id", KeyType.RANGE)], Projection = new Projection { ProjectionType = ProjectionType.ALL } },
            ],
        });
        while ((await _plain.DescribeTableAsync(_table)).Table.TableStatus != TableStatus.ACTIVE) await Task.Delay(50);
    }

    public Task DisposeAsync()
    {
        _plain.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_throttle_is_answered_without_forwarding()
    {
        using var hostile = new HostileDynamoDb(new HostileDynamoDbProfile { Throttle = 1 });
        using var client = _server.CreateClient(hostile);
        await Assert.ThrowsAsync<ProvisionedThroughputExceededException>(() => client.PutItemAsync(Put("t")));
        Assert.Null(await GetAsync("t"));
        Assert.Equal(1, hostile.Ledger.FaultsOf(HostileFault.Throttle));
        Assert.Equal(0, hostile.Ledger.Forwarded);
    }

    [Fact]
    public async Task A_failure_before_sending_sends_nothing()
    {
        using var hostile = new HostileDynamoDb(new HostileDynamoDbProfile { FailBeforeSend = 1 });
        using var client = _server.CreateClient(hostile);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.PutItemAsync(Put("f")));
        Assert.Null(await GetAsync("f"));
        Assert.Equal(1, hostile.Ledger.FaultsOf(HostileFault.FailedBeforeSend));
    }

    [Fact]
    public async Task A_write_answered_500_was_applied()
    {
        using var hostile = new HostileDynamoDb(new HostileDynamoDbProfile { AppliedThenServerError = 1 });
        using var client = _server.CreateClient(hostile);
        await Assert.ThrowsAsync<InternalServerErrorException>(() => client.PutItemAsync(Put("e")));
        Assert.NotNull(await GetAsync("e"));
        Assert.Equal(1, hostile.Ledger.FaultsOf(HostileFault.AppliedThenServerError));
        Assert.Equal(1, hostile.Ledger.Snapshot()["PutItem"].WriteCapacityUnits); // billed though the answer was lost
    }

    [Fact]
    public async Task A_write_whose_connection_reset_was_applied()
    {
        using var hostile = new HostileDynamoDb(new HostileDynamoDbProfile { AppliedThenReset = 1 });
        using var client = _server.CreateClient(hostile);
        // The SDK unwraps the HttpRequestException's IOException.
        await Assert.ThrowsAsync<IOException>(() => client.PutItemAsync(Put("r")));
        Assert.NotNull(await GetAsync("r"));
        Assert.Equal(1, hostile.Ledger.FaultsOf(HostileFault.AppliedThenReset));
    }

    [Fact]
    public async Task Reads_are_never_answered_after_being_applied_and_lost()
    {
        using var hostile = new HostileDynamoDb(new HostileDynamoDbProfile { AppliedThenServerError = 1, AppliedThenReset = 1 });
        using var client = _server.CreateClient(hostile);
        await client.GetItemAsync(new GetItemRequest { TableName = _table, Key = new() { ["id"] = new("absent") } });
        Assert.Equal(0, hostile.Ledger.FaultsOf(HostileFault.AppliedThenServerError) + hostile.Ledger.FaultsOf(HostileFault.AppliedThenReset));
    }

    [Fact]
    public async Task Tiny_pages_make_the_caller_follow_the_last_evaluated_key()
    {
        var group = Guid.NewGuid().ToString();
        for (var i = 0; i < 5; i++) await _plain.PutItemAsync(Put($"{group}-{i}", group));
        using var hostile = new HostileDynamoDb(new HostileDynamoDbProfile { TinyPage = 1 });
        using var client = _server.CreateClient(hostile);

        var request = new QueryRequest
        {
            TableName = _table, IndexName = Index, KeyConditionExpression = "#g = :g",
            ExpressionAttributeNames = new() { ["#g"] = "group" }, ExpressionAttributeValues = new() { [":g"] = new(group) },
            ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
        };
        var first = await client.QueryAsync(request);
        Assert.InRange(first.Items.Count, 1, 2);
        Assert.NotEmpty(first.LastEvaluatedKey);
        var seen = first.Items.Count;
        for (request.ExclusiveStartKey = first.LastEvaluatedKey; request.ExclusiveStartKey is { Count: > 0 };)
        {
            var page = await client.QueryAsync(request);
            seen += page.Items.Count;
            request.ExclusiveStartKey = page.LastEvaluatedKey;
        }
        Assert.Equal(5, seen);
        Assert.True(hostile.Ledger.FaultsOf(HostileFault.TinyPage) >= 3);
        Assert.True(hostile.Ledger.Snapshot()["Query"].ReadCapacityUnits > 0);
    }

    [Fact]
    public async Task Index_reads_lag_behind_writes_until_the_write_has_propagated()
    {
        using var hostile = new HostileDynamoDb(new HostileDynamoDbProfile { Seed = 7, MaxIndexLag = TimeSpan.FromSeconds(2) });
        using var client = _server.CreateClient(hostile);
        await client.DescribeTableAsync(_table); // how items are keyed is learnt from DescribeTable (or CreateTable)
        var group = Guid.NewGuid().ToString();
        for (var i = 0; i < 4; i++) await client.PutItemAsync(Put($"{group}-{i}", group));
        var query = new QueryRequest
        {
            TableName = _table, IndexName = Index, KeyConditionExpression = "#g = :g",
            ExpressionAttributeNames = new() { ["#g"] = "group" }, ExpressionAttributeValues = new() { [":g"] = new(group) },
        };

        // The base table is consistent at once; the index is not (a lag of up to 2 s per write, seeded).
        Assert.Equal(4, (await client.ScanAsync(new ScanRequest { TableName = _table, ConsistentRead = true, FilterExpression = "#g = :g",
            ExpressionAttributeNames = query.ExpressionAttributeNames, ExpressionAttributeValues = query.ExpressionAttributeValues })).Items.Count);
        Assert.True((await client.QueryAsync(query)).Items.Count < 4);
        Assert.True(hostile.Ledger.FaultsOf(HostileFault.StaleIndexRead) > 0);

        await Task.Delay(TimeSpan.FromSeconds(2.1));
        Assert.Equal(4, (await client.QueryAsync(query)).Items.Count);
    }

    [Fact]
    public async Task A_failed_condition_is_booked_as_billed()
    {
        using var hostile = new HostileDynamoDb(new HostileDynamoDbProfile());
        using var client = _server.CreateClient(hostile);
        var put = Put("c");
        put.ConditionExpression = "attribute_not_exists(id)";
        await client.PutItemAsync(put);
        await Assert.ThrowsAsync<ConditionalCheckFailedException>(() => client.PutItemAsync(put));

        var books = hostile.Ledger.Snapshot()["PutItem"];
        Assert.Equal(2, books.Forwarded);
        Assert.Equal(1, books.ConditionalCheckFailures);
        Assert.Equal(2, books.WriteCapacityUnits);
    }

    private PutItemRequest Put(string id, string group = "none") => new()
    {
        TableName = _table,
        Item = new() { ["id"] = new(id), ["group"] = new(group) },
        ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
    };

    private async Task<Dictionary<string, AttributeValue>?> GetAsync(string id)
    {
        var item = (await _plain.GetItemAsync(new GetItemRequest { TableName = _table, Key = new() { ["id"] = new(id) }, ConsistentRead = true })).Item;
        return item is { Count: > 0 } ? item : null;
    }
}
