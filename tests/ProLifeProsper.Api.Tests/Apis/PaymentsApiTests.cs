using System.Net;
using System.Net.Http.Json;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>The payments contract of the HTTP API; runs once per routing configuration.</summary>
public abstract class PaymentsApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory> where TFactory : ApiFactory
{
    protected TFactory Factory { get; } = factory;

    [Theory]
    [InlineData("tok_visa", "card", "succeeded", null)]
    [InlineData("tok_chargeDeclined", "card", "failed", "card_declined")]
    [InlineData("tok_insufficientFunds", "card", "failed", "insufficient_funds")]
    [InlineData("tok_bankTransfer", "bank_transfer", "pending", null)]
    public async Task The_sandbox_gateway_decides_the_first_status(string token, string type, string status, string? failureCode)
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await tenant.PayAsync(1_234, token, type);

        Assert.Equal(status, payment.Status);
        Assert.Equal(failureCode, payment.FailureCode);
        Assert.Equal(1_234, payment.AmountMinor);
        Assert.Equal("USD", payment.Currency);
        Assert.Equal(tenant.OrganizationId, payment.OrganizationId);
        Assert.Equal(7, payment.TransactionId.Version);
        Assert.Equal(TimeSpan.Zero, payment.CreatedAt.Offset);

        var fetched = await TestTenant.ReadAsync<PaymentResponse>(await tenant.Client.GetAsync(tenant.Path($"/payments/{payment.TransactionId}")), HttpStatusCode.OK);
        Assert.Equivalent(payment, fetched);
    }

    [Fact]
    public async Task The_settlement_worker_settles_a_pending_bank_transfer()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await tenant.PayAsync(50_000, "tok_bankTransfer", "bank_transfer");
        Assert.Equal("pending", payment.Status);

        PaymentResponse current = payment;
        for (var i = 0; i < 100 && current.Status == "pending"; i++)
        {
            await Task.Delay(200);
            current = await TestTenant.ReadAsync<PaymentResponse>(await tenant.Client.GetAsync(tenant.Path($"/payments/{payment.TransactionId}")), HttpStatusCode.OK);
        }
        Assert.Equal("succeeded", current.Status);
        Assert.True(current.UpdatedAt > payment.UpdatedAt);
        Assert.Equal(payment.CreatedAt, current.CreatedAt);
    }

    [Fact]
    public async Task Listing_is_newest_first_filters_by_status_and_range_and_pages_exactly()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var made = new List<PaymentResponse>();
        for (var i = 0; i < 7; i++)
        {
            made.Add(await tenant.PayAsync(100 + i, i % 3 == 0 ? "tok_chargeDeclined" : "tok_visa"));
            // Two creates in one millisecond tie on time and list by id, which is random within the millisecond.
            while (Factory.Clock.GetUtcNow() <= made[^1].CreatedAt.AddMilliseconds(1)) await Task.Delay(1);
        }

        var all = await tenant.ListPaymentsAsync("?limit=500");
        Assert.Equal(made.Select(p => p.TransactionId).Reverse(), all.Items.Select(p => p.TransactionId));
        Assert.Null(all.NextCursor);

        var failed = await tenant.ListPaymentsAsync("?status=failed");
        Assert.Equal(3, failed.Items.Count);
        Assert.All(failed.Items, p => Assert.Equal("failed", p.Status));

        var paged = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await tenant.ListPaymentsAsync("?limit=3" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            Assert.InRange(page.Items.Count, 1, 3);
            paged.AddRange(page.Items.Select(p => p.TransactionId));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Equal(all.Items.Select(p => p.TransactionId), paged);

        var from = made[2].CreatedAt;
        var to = made[5].CreatedAt;
        var ranged = await tenant.ListPaymentsAsync($"?from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}");
        Assert.Equal(made.Skip(2).Take(3).Select(p => p.TransactionId).Reverse(), ranged.Items.Select(p => p.TransactionId));
    }

    [Fact]
    public async Task Refunds_go_partial_then_full_and_never_beyond()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await tenant.PayAsync(10_000);

        var partial = await TestTenant.ReadAsync<RefundResponse>(await tenant.PostRefundAsync(payment.TransactionId, 3_000, "r1"), HttpStatusCode.Created);
        Assert.Equal("partially_refunded", partial.Payment.Status);
        Assert.Equal(3_000, partial.Payment.RefundedAmountMinor);
        Assert.Equal(3_000, partial.AmountMinor);

        var tooMuch = await tenant.PostRefundAsync(payment.TransactionId, 7_001, "r2");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooMuch.StatusCode);
        Assert.Contains("refund-exceeds-balance", await tooMuch.Content.ReadAsStringAsync());

        var rest = await TestTenant.ReadAsync<RefundResponse>(await tenant.PostRefundAsync(payment.TransactionId, null, "r3"), HttpStatusCode.Created);
        Assert.Equal(7_000, rest.AmountMinor);
        Assert.Equal("refunded", rest.Payment.Status);

        var again = await tenant.PostRefundAsync(payment.TransactionId, 1, "r4");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        var final = await TestTenant.ReadAsync<PaymentResponse>(await tenant.Client.GetAsync(tenant.Path($"/payments/{payment.TransactionId}")), HttpStatusCode.OK);
        Assert.Equal(10_000, final.RefundedAmountMinor);
    }

    [Theory]
    [InlineData("tok_chargeDeclined", "card")]
    [InlineData("tok_bankTransfer", "bank_transfer")]
    public async Task Only_succeeded_payments_can_be_refunded(string token, string type)
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await tenant.PayAsync(1_000, token, type);
        var response = await tenant.PostRefundAsync(payment.TransactionId, 500, Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("invalid-payment-transition", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Concurrent_refunds_never_refund_more_than_the_payment()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await tenant.PayAsync(1_000);
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => tenant.PostRefundAsync(payment.TransactionId, 100, $"concurrent-{i}")));

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity, r.StatusCode.ToString()));
        var accepted = responses.Count(r => r.StatusCode == HttpStatusCode.Created);
        var final = await TestTenant.ReadAsync<PaymentResponse>(await tenant.Client.GetAsync(tenant.Path($"/payments/{payment.TransactionId}")), HttpStatusCode.OK);
        Assert.Equal(accepted * 100, final.RefundedAmountMinor);
        Assert.True(final.RefundedAmountMinor <= 1_000);
        Assert.InRange(accepted, 1, 10);
    }

    [Fact]
    public async Task Hourly_analytics_sum_captured_payments_per_hour_and_currency()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var first = await tenant.PayAsync(1_000);
        await tenant.PayAsync(2_500);
        await tenant.PayAsync(9_999, "tok_chargeDeclined");
        Assert.Equal(HttpStatusCode.Created, (await tenant.PostRefundAsync(first.TransactionId, 400, Guid.NewGuid().ToString())).StatusCode);

        var analytics = await TestTenant.ReadAsync<HourlyAnalyticsResponse>(await tenant.Client.GetAsync(tenant.Path("/analytics/hourly")), HttpStatusCode.OK);
        var hours = analytics.Hours.Where(h => h.Currency == "USD").ToList();
        Assert.Equal(2, hours.Sum(h => h.Count));
        Assert.Equal(3_500, hours.Sum(h => h.AmountMinor));
        Assert.Equal(400, hours.Sum(h => h.RefundedAmountMinor));
        Assert.Equal(3_100, hours.Sum(h => h.NetAmountMinor));
        Assert.All(hours, h => Assert.Equal(0, h.Hour.Minute));
    }
}

public sealed class PaymentsApiOnPostgreSqlTests(ApiFactory factory) : PaymentsApiTests<ApiFactory>(factory);
