using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Api.Storage.DynamoDb;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary><c>GET /api/admin/health</c> reports the routing, both databases and live store figures.</summary>
public abstract class AdminHealthApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory> where TFactory : ApiFactory
{
    protected TFactory Factory { get; } = factory;

    protected abstract string ExpectedConfiguration { get; }
    protected abstract string ExpectedPaymentsStore { get; }
    protected abstract string ExpectedDynamoStatus { get; }

    [Fact]
    public async Task Health_reports_routing_databases_and_figures_from_live_traffic()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        for (var i = 0; i < 3; i++) await tenant.PayAsync();

        using var admin = Factory.CreateAdminClient();
        var response = await admin.GetAsync("/api/admin/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal("healthy", (string)health["status"]!);
        Assert.Equal(ExpectedConfiguration, (string)health["routing"]!["configuration"]!);
        Assert.Equal(ExpectedPaymentsStore, (string)health["routing"]!["paymentsStore"]!);
        Assert.Equal("healthy", (string)health["databases"]!["postgresql"]!["status"]!);
        Assert.True((double)health["databases"]!["postgresql"]!["latencyMs"]! >= 0);
        Assert.Equal(ExpectedDynamoStatus, (string)health["databases"]!["dynamodb"]!["status"]!);

        var figures = health["performance"]![ExpectedPaymentsStore]!;
        Assert.True((long)figures["operations"]! >= 3);
        Assert.True((double)figures["averageLatencyMs"]! > 0);
        Assert.True((double)figures["p99LatencyMs"]! >= (double)figures["averageLatencyMs"]! * 0.5);
        foreach (var field in new[] { "operationsPerSecond", "errors", "retries", "throttled", "consumedReadCapacity", "consumedWriteCapacity" })
            Assert.NotNull(figures[field]);
    }

    [Fact]
    public async Task Health_is_for_the_admin_only()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.Client.GetAsync("/api/admin/health")).StatusCode);
        using var anonymous = Factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/admin/health")).StatusCode);
    }
}

public sealed class AdminHealthApiOnPostgreSqlTests(ApiFactory factory) : AdminHealthApiTests<ApiFactory>(factory)
{
    protected override string ExpectedConfiguration => "current";
    protected override string ExpectedPaymentsStore => "postgresql";
    protected override string ExpectedDynamoStatus => "not_configured";
}

public sealed class AdminHealthApiOnDynamoDbTests(HighScaleApiFactory factory) : AdminHealthApiTests<HighScaleApiFactory>(factory)
{
    protected override string ExpectedConfiguration => "highScale";
    protected override string ExpectedPaymentsStore => "dynamodb";
    protected override string ExpectedDynamoStatus => "healthy";

    [Fact]
    public async Task In_highScale_payments_live_in_DynamoDB_and_not_in_PostgreSQL()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await tenant.PayAsync();

        await using var connection = new NpgsqlConnection(Factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM payment_transactions", connection);
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);

        using var dynamo = (await ProLifeProsper.LocalInfrastructure.DynaliteServer.GetAsync()).CreateClient();
        var item = await dynamo.GetItemAsync(Factory.TablePrefix + "pro_life_prosper_transactions", new()
        {
            ["organizationPartition"] = new(ProLifeProsper.Api.Storage.DynamoDb.PaymentItemKeys.PartitionOf(tenant.OrganizationId, shard: 0)),
            ["timestampTransactionId"] = new(ProLifeProsper.Api.Storage.DynamoDb.PaymentItemKeys.SortKeyOf(payment.TransactionId)),
        });
        Assert.Equal("2500", item.Item["amountMinor"].N);
    }
}
