using System.Net;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>Settlement with several replicas: one works at a time, so the processor is asked once per payment, not once per replica; and one transfer that cannot be settled holds back none behind it.</summary>
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

    [Fact]
    public async Task A_transfer_the_processor_refuses_to_settle_holds_back_no_other()
    {
        await using var api = new ApiFactory();
        await api.InitializeAsync();
        var tenant = await TestTenant.CreateAsync(api);
        var refused = await tenant.PayAsync(999, "tok_bankTransfer", "bank_transfer"); // the oldest: first of every page
        api.Gateway.RefuseSettlement(refused.TransactionId);
        var others = new List<PaymentResponse>();
        for (var i = 0; i < 5; i++) others.Add(await tenant.PayAsync(1_000 + i, "tok_bankTransfer", "bank_transfer"));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await tenant.ListPaymentsAsync("?status=pending")).Items.Count > 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the transfers behind the refused one were not settled");
            await Task.Delay(200);
        }

        var pending = Assert.Single((await tenant.ListPaymentsAsync("?status=pending")).Items);
        Assert.Equal(refused.TransactionId, pending.TransactionId);
        Assert.True(api.Gateway.SettlementAsks(refused.TransactionId) >= 1);
        Assert.All(others, p => Assert.Equal(1, api.Gateway.SettlementAsks(p.TransactionId)));
    }
}
