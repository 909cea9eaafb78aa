using System.Diagnostics;
using OpenTelemetry;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Telemetry;

/// <summary>
/// The dashboard shows requests and real work, not polls: an idle API's polls (routing re-reads, outbox, settlement,
/// refund pay-outs, reconciler) record no span, while a request and a payment settled in the background each get a trace.
/// </summary>
[Collection(TracingCollection.Name)]
public sealed class BackgroundTracingTests
{
    [Fact]
    public async Task An_idle_api_records_no_spans_while_requests_and_settlements_are_traced()
    {
        await using var api = new TracedApiFactory();
        await api.InitializeAsync();
        var tenant = await TestTenant.CreateAsync(api);

        // Work found by a poll: a bank transfer the settlement worker settles about a second later.
        var transfer = await tenant.PayAsync(1_500, "tok_bankTransfer", "bank_transfer");
        var settle = await api.Spans.WaitForAsync(s => s.DisplayName == "settle payments");
        Assert.Equal(default, settle.ParentSpanId); // a trace of its own, not a child of a poll's
        Assert.Equal(1, settle.GetTagItem("prolifeprosper.payments.settled"));
        Assert.Contains(api.Spans.All, s => s.TraceId == settle.TraceId && s.DisplayName == "postgresql update");

        // Idle: the polls keep querying PostgreSQL (counted), a health probe checks the database, and nothing is recorded.
        api.Spans.Clear();
        using (var polls = new PollActivityCounter())
        {
            using (SuppressInstrumentationScope.Begin()) // the test's own client call is not the API's to record
                Assert.True((await tenant.Client.GetAsync("/health")).IsSuccessStatusCode);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (polls.Commands < 40)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the background polls ran only {polls.Commands} SQL commands");
                await Task.Delay(100);
            }
        }
        Assert.Empty(api.Spans.All.Select(s => $"{s.Source.Name}: {s.DisplayName}"));

        // A request is still traced, with the store's work inside it.
        await tenant.ListPaymentsAsync();
        var request = await api.Spans.WaitForAsync(s => s.Kind == ActivityKind.Server);
        Assert.Equal("GET /api/organizations/{orgId:guid}/payments/", request.DisplayName);
        Assert.Contains(api.Spans.All, s => s.TraceId == request.TraceId && s.Source.Name == "Npgsql");
        Assert.Equal("succeeded", (await tenant.ListPaymentsAsync()).Items.Single(p => p.TransactionId == transfer.TransactionId).Status);

        // A caller that asks not to be traced (the AppHost's migration status poll: traceparent with the sampled flag off) is not.
        using var admin = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = tenant.Client.BaseAddress };
        admin.DefaultRequestHeaders.Add("X-Api-Key", ApiFactory.AdminApiKey);
        using var poll = new HttpRequestMessage(HttpMethod.Get, "/api/admin/migration");
        var untraced = ActivityTraceId.CreateRandom();
        poll.Headers.Add("traceparent", $"00-{untraced}-{ActivitySpanId.CreateRandom()}-00");
        Assert.True((await admin.SendAsync(poll)).IsSuccessStatusCode);
        await tenant.ListPaymentsAsync(); // a traced request after it: once its span is there, the poll's would be too
        var after = await api.Spans.WaitForAsync(s => s.Kind == ActivityKind.Server && s.TraceId != request.TraceId);
        Assert.Equal("GET /api/organizations/{orgId:guid}/payments/", after.DisplayName);
        Assert.DoesNotContain(api.Spans.All, s => s.DisplayName.StartsWith("GET /api/admin/migration", StringComparison.Ordinal));
        Assert.DoesNotContain(api.Spans.All, s => s.TraceId == untraced); // nor the queries it ran
    }
}
