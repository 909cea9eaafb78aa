using System.Net;
using System.Net.Http.Json;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>One organization never sees, nor changes, another's data, on any route.</summary>
public abstract class TenantIsolationApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory> where TFactory : ApiFactory
{
    [Fact]
    public async Task Another_organizations_key_gets_404_on_every_route_and_changes_nothing()
    {
        var victim = await TestTenant.CreateAsync(factory);
        var intruder = await TestTenant.CreateAsync(factory);
        var payment = await victim.PayAsync(7_777);

        var attempts = new (HttpMethod Method, string Path, object? Body)[]
        {
            (HttpMethod.Get, victim.Path(), null),
            (HttpMethod.Get, victim.Path("/campaigns"), null),
            (HttpMethod.Post, victim.Path("/campaigns"), new { name = "x", goalAmountMinor = 1, currency = "USD" }),
            (HttpMethod.Get, victim.Path($"/campaigns/{victim.CampaignId}"), null),
            (HttpMethod.Get, victim.Path("/donors"), null),
            (HttpMethod.Post, victim.Path("/donors"), new { email = "x@example.org", name = "x" }),
            (HttpMethod.Get, victim.Path($"/donors/{victim.DonorId}"), null),
            (HttpMethod.Get, victim.Path("/payments"), null),
            (HttpMethod.Post, victim.Path("/payments"), victim.PaymentBody()),
            (HttpMethod.Get, victim.Path($"/payments/{payment.TransactionId}"), null),
            (HttpMethod.Post, victim.Path($"/payments/{payment.TransactionId}/refunds"), new { amountMinor = 1 }),
            (HttpMethod.Get, victim.Path("/analytics/hourly"), null),
            // The intruder's own routes with the victim's ids.
            (HttpMethod.Get, intruder.Path($"/payments/{payment.TransactionId}"), null),
            (HttpMethod.Post, intruder.Path($"/payments/{payment.TransactionId}/refunds"), new { amountMinor = 1 }),
            (HttpMethod.Get, intruder.Path($"/campaigns/{victim.CampaignId}"), null),
            (HttpMethod.Get, intruder.Path($"/donors/{victim.DonorId}"), null),
        };

        foreach (var (method, path, body) in attempts)
        {
            var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            var response = await intruder.Client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {(int)response.StatusCode} {text}");
            // Nothing of the victim's data comes back (the 404 may repeat the id the caller sent, nothing more).
            Assert.DoesNotContain("7777", ProblemAssert.WithoutTraceId(text));
            Assert.DoesNotContain("Spring appeal", text);
            Assert.DoesNotContain("Dana Donor", text);
            Assert.DoesNotContain("\"items\"", text);
        }

        // Input the routes would refuse (a broken body, a bad query string, a wrong type) is not even read: 404 as well. (A body
        // that is not JSON at all is 415 from routing, before the key is looked at, alike for every organization's id.)
        var malformed = new Func<HttpRequestMessage>[]
        {
            () => new HttpRequestMessage(HttpMethod.Post, victim.Path("/payments")) { Content = new StringContent("{", System.Text.Encoding.UTF8, "application/json") },
            () => new HttpRequestMessage(HttpMethod.Get, victim.Path("/payments?limit=abc")),
            () => new HttpRequestMessage(HttpMethod.Post, victim.Path("/donors")) { Content = JsonContent.Create(new { email = 42 }) },
        };
        foreach (var make in malformed)
        {
            using var request = make();
            var response = await intruder.Client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{request.Method} {request.RequestUri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        // A payment for the intruder naming the victim's campaign and donor is refused too.
        var crossReference = await intruder.PostPaymentAsync(victim.PaymentBody(), Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, crossReference.StatusCode);

        var victimPayments = await victim.ListPaymentsAsync();
        Assert.Single(victimPayments.Items);
        Assert.Equal(0, victimPayments.Items[0].RefundedAmountMinor);
        Assert.Empty((await intruder.ListPaymentsAsync()).Items);
    }
}

public sealed class TenantIsolationApiOnPostgreSqlTests(ApiFactory factory) : TenantIsolationApiTests<ApiFactory>(factory);
