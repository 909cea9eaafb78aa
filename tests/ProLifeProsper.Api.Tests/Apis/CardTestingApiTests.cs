using System.Net;
using System.Net.Http.Json;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>
/// Card testing: after too many declined charges for a donor, or for an organization, further payment attempts for it are
/// refused with 429 before the processor is asked, while everyone else pays as usual.
/// </summary>
public sealed class CardTestingApiTests(CardTestingApiTests.Factory factory) : IClassFixture<CardTestingApiTests.Factory>
{
    private const int PerDonor = 3;
    private const int PerOrganization = 5;

    public sealed class Factory : ApiFactory
    {
        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [
            new("RateLimits:FailedPaymentsPerDonor:Limit", PerDonor.ToString()),
            new("RateLimits:FailedPaymentsPerDonor:Window", "01:00:00"),
            new("RateLimits:FailedPaymentsPerOrganization:Limit", PerOrganization.ToString()),
            new("RateLimits:FailedPaymentsPerOrganization:Window", "01:00:00"),
        ];
    }

    [Fact]
    public async Task After_too_many_declines_a_donor_is_refused_before_the_processor_is_asked_and_other_donors_pay()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var declinedKeys = new List<string>();
        for (var i = 0; i < PerDonor; i++)
        {
            var key = $"declined-{i}-{Guid.NewGuid():N}";
            var declined = await TestTenant.ReadAsync<PaymentResponse>(
                await tenant.PostPaymentAsync(tenant.PaymentBody(token: "tok_chargeDeclined"), key), HttpStatusCode.Created);
            Assert.Equal("failed", declined.Status);
            declinedKeys.Add(key);
        }

        // Even a good card is refused now, and the processor never hears of it.
        var refusedKey = $"good-card-{Guid.NewGuid():N}";
        var refused = await tenant.PostPaymentAsync(tenant.PaymentBody(token: "tok_visa"), refusedKey);
        var problem = await ProblemAssert.ReadAsync(refused, HttpStatusCode.TooManyRequests, "too-many-failed-payments");
        Assert.Contains("this donor", (string?)problem["detail"]);
        Assert.InRange(ProblemAssert.RetryAfter(refused), TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Assert.DoesNotContain(factory.Gateway.Ledger.Charges, c => c.OrganizationId == tenant.OrganizationId && c.IdempotencyKey == refusedKey);
        Assert.Equal(PerDonor, factory.Gateway.Ledger.Charges.Count(c => c.OrganizationId == tenant.OrganizationId));
        Assert.Equal(PerDonor, (await tenant.ListPaymentsAsync()).Items.Count);

        // A retry of an earlier attempt still gets its answer: a replay moves no money.
        var retry = await tenant.PostPaymentAsync(tenant.PaymentBody(token: "tok_chargeDeclined"), declinedKeys[0]);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal("true", Assert.Single(retry.Headers.GetValues("Idempotent-Replayed")));

        // Another donor of the same organization is unaffected.
        var otherDonor = await CreateDonorAsync(tenant);
        var paid = await TestTenant.ReadAsync<PaymentResponse>(
            await tenant.PostPaymentAsync(BodyFor(tenant, otherDonor, "tok_visa"), Guid.NewGuid().ToString()), HttpStatusCode.Created);
        Assert.Equal("succeeded", paid.Status);

        // Once the window has passed, the donor may try again.
        factory.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal("succeeded", (await tenant.PayAsync()).Status);
    }

    [Fact]
    public async Task Declines_spread_over_donors_stop_the_organization_but_not_another_one()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var donors = new List<Guid> { tenant.DonorId, await CreateDonorAsync(tenant), await CreateDonorAsync(tenant) };
        for (var i = 0; i < PerOrganization; i++)
        {
            var declined = await TestTenant.ReadAsync<PaymentResponse>(
                await tenant.PostPaymentAsync(BodyFor(tenant, donors[i % donors.Count], "tok_chargeDeclined"), Guid.NewGuid().ToString()), HttpStatusCode.Created);
            Assert.Equal("failed", declined.Status);
        }

        // A donor who never failed is refused too: the organization as a whole has had too many declines.
        var freshDonor = await CreateDonorAsync(tenant);
        var refusedKey = Guid.NewGuid().ToString();
        var refused = await tenant.PostPaymentAsync(BodyFor(tenant, freshDonor, "tok_visa"), refusedKey);
        var problem = await ProblemAssert.ReadAsync(refused, HttpStatusCode.TooManyRequests, "too-many-failed-payments");
        Assert.Contains("this organization", (string?)problem["detail"]);
        ProblemAssert.RetryAfter(refused);
        Assert.DoesNotContain(factory.Gateway.Ledger.Charges, c => c.OrganizationId == tenant.OrganizationId && c.IdempotencyKey == refusedKey);
        Assert.Equal(PerOrganization, (await tenant.ListPaymentsAsync()).Items.Count);

        var other = await TestTenant.CreateAsync(factory);
        Assert.Equal("succeeded", (await other.PayAsync()).Status);
    }

    [Fact]
    public async Task Declines_fired_in_parallel_are_held_to_the_limit()
    {
        // Attempts at the processor count until they finish: thirty at once used to be admitted before the first decline counted.
        var tenant = await TestTenant.CreateAsync(factory);
        var answers = await Task.WhenAll(Enumerable.Range(0, 30).Select(i =>
            tenant.PostPaymentAsync(tenant.PaymentBody(token: "tok_chargeDeclined"), $"parallel-{i}")));
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Created or HttpStatusCode.TooManyRequests, a.StatusCode.ToString()));
        Assert.InRange(factory.Gateway.Ledger.Charges.Count(c => c.OrganizationId == tenant.OrganizationId), 1, PerDonor);
        Assert.Equal(factory.Gateway.Ledger.Charges.Count(c => c.OrganizationId == tenant.OrganizationId), answers.Count(a => a.StatusCode == HttpStatusCode.Created));
    }

    [Fact]
    public async Task A_retry_of_a_charge_whose_answer_was_lost_is_recorded_even_after_the_donor_is_blocked()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        // The processor captures this charge, but its answer never arrives: the client hears 503 and will retry.
        factory.Gateway.LoseNextAnswer(tenant.OrganizationId, "charge");
        var lost = await tenant.PostPaymentAsync(tenant.PaymentBody(2_000, token: "tok_visa"), "captured-answer-lost");
        Assert.False(lost.IsSuccessStatusCode);
        for (var i = 0; i < PerDonor; i++)
            Assert.Equal(HttpStatusCode.Created, (await tenant.PostPaymentAsync(tenant.PaymentBody(token: "tok_chargeDeclined"), $"then-declined-{i}")).StatusCode);

        // The donor is blocked for new attempts, but the retry is the captured charge: it is recorded, not refused.
        var retry = await TestTenant.ReadAsync<PaymentResponse>(
            await tenant.PostPaymentAsync(tenant.PaymentBody(2_000, token: "tok_visa"), "captured-answer-lost"), HttpStatusCode.Created);
        Assert.Equal("succeeded", retry.Status);
        Assert.Single(factory.Gateway.Ledger.Charges, c => c.OrganizationId == tenant.OrganizationId && c.IdempotencyKey == "captured-answer-lost");
        Assert.Contains((await tenant.ListPaymentsAsync()).Items, p => p.TransactionId == retry.TransactionId);
        // A new attempt is still refused.
        await ProblemAssert.ReadAsync(await tenant.PostPaymentAsync(tenant.PaymentBody(token: "tok_visa"), "new-attempt"), HttpStatusCode.TooManyRequests, "too-many-failed-payments");
    }

    private static async Task<Guid> CreateDonorAsync(TestTenant tenant) =>
        (await TestTenant.ReadAsync<DonorResponse>(await tenant.Client.PostAsJsonAsync(tenant.Path("/donors"),
            new { email = $"donor-{Guid.NewGuid():N}@example.org", name = "Another Donor" }), HttpStatusCode.Created)).Id;

    private static object BodyFor(TestTenant tenant, Guid donorId, string token) => new
    {
        campaignId = tenant.CampaignId,
        donorId,
        amountMinor = 1_500L,
        currency = "USD",
        paymentMethod = new { type = "card", token },
    };
}
