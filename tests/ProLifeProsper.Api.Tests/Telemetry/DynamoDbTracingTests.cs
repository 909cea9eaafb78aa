using System.Diagnostics;
using System.Text.Json;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Telemetry;

/// <summary>A payment on DynamoDB reads as DynamoDB calls in its trace (<c>PutItem &lt;table&gt;</c>), not as bare HTTP POSTs.</summary>
[Collection(TracingCollection.Name)]
public sealed class DynamoDbTracingTests
{
    [Fact]
    public async Task A_create_on_dynamodb_traces_each_call_by_operation_and_table_with_its_consumed_capacity()
    {
        await using var api = new TracedHighScaleApiFactory();
        await api.InitializeAsync();
        var tenant = await TestTenant.CreateAsync(api);

        var payment = await tenant.PayAsync();

        var request = await api.Spans.WaitForAsync(s => s.Kind == ActivityKind.Server && s.DisplayName == "POST /api/organizations/{orgId:guid}/payments/");
        var trace = api.Spans.All.Where(s => s.TraceId == request.TraceId).ToList();
        var table = api.TablePrefix + "pro_life_prosper_transactions";
        var put = Assert.Single(trace, s => s.DisplayName == $"PutItem {table}");
        Assert.Equal(ActivityKind.Client, put.Kind);
        Assert.Equal("aws.dynamodb", put.GetTagItem("db.system.name"));
        Assert.Equal("PutItem", put.GetTagItem("db.operation.name"));
        Assert.Equal([table], Assert.IsType<string[]>(put.GetTagItem("aws.dynamodb.table_names")));
        var capacity = JsonDocument.Parse(Assert.Single(Assert.IsType<string[]>(put.GetTagItem("aws.dynamodb.consumed_capacity")))).RootElement;
        Assert.Equal(table, capacity.GetProperty("TableName").GetString());
        Assert.True(capacity.GetProperty("CapacityUnits").GetDouble() > 0);
        // Inside the request's store operation, and the SDK's HTTP request is not a second, bare span.
        Assert.Contains(trace, s => s.SpanId == put.ParentSpanId && s.DisplayName == "dynamodb create");
        // (The one HTTP client span in the trace is the test's own request to the API, the server span's parent.)
        Assert.DoesNotContain(trace, s => s.Source.Name == "System.Net.Http" && s.SpanId != request.ParentSpanId);
        Assert.Equal(2_500, payment.AmountMinor);
    }
}
