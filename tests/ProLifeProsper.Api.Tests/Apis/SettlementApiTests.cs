using System.Net;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>Settlement with several replicas: one works at a time, so the processor is asked once per payment, not once per replica.</summary>
public sealed class SettlementApiTests
{
    [Fact]
    public async Task Two_replicas_ask_the_processor_once_per_pending_payment()
    {
        await using var first = new ApiFactory();
        await first.InitializeAsync();
        await using var second = new ApiFactory { SharedConnectionString = first.ConnectionString };
        await second.InitializeAsync();
        var tenant = await TestTenant.CreateAsync(first);
        var payments = new List<PaymentResponse>();
        for (var i = 0; i < 12; i++) payments.Add(await tenant.PayAsync(1_000 + i, "tok_bankTransfer", "bank_transfer"));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await tenant.ListPaymentsAsync("?status=pending")).Items.Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the pending payments were not settled");
            await Task.Delay(200);
        }

        Assert.All(payments, p => Assert.Equal(1, first.Gateway.SettlementAsks(p.TransactionId) + second.Gateway.SettlementAsks(p.TransactionId)));
        Assert.All((await tenant.ListPaymentsAsync()).Items, p => Assert.Equal("succeeded", p.Status));
    }
}
