using System.Net.Http.Json;
using System.Net;
using Npgsql;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>Stripe's idempotency semantics, end to end; runs once per routing configuration.</summary>
public abstract class IdempotencyApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory> where TFactory : ApiFactory
{
    protected TFactory Factory { get; } = factory;

    [Fact]
    public async Task The_same_key_and_body_replay_the_first_response_exactly()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var first = await tenant.PostPaymentAsync(tenant.PaymentBody(), "replay-me");
        var firstBody = await first.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));

        var second = await tenant.PostPaymentAsync(tenant.PaymentBody(), "replay-me");
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(firstBody, await second.Content.ReadAsStringAsync());
        Assert.Equal("true", Assert.Single(second.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Single((await tenant.ListPaymentsAsync()).Items);
    }

    [Fact]
    public async Task A_replay_answers_the_first_response_even_after_the_payment_changed()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var first = await tenant.PostPaymentAsync(tenant.PaymentBody(5_000), "then-refunded");
        var firstBody = await first.Content.ReadAsStringAsync();
        var payment = await TestTenant.ReadAsync<PaymentResponse>(first, HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await tenant.PostRefundAsync(payment.TransactionId, 1_000, "refund-1")).StatusCode);

        var replay = await tenant.PostPaymentAsync(tenant.PaymentBody(5_000), "then-refunded");
        Assert.Equal(firstBody, await replay.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_replay_answers_the_first_response_after_the_campaign_closed()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var body = tenant.PaymentBody(700, campaignId: await tenant.CreateCampaignEndingAtAsync(Factory.Clock.GetUtcNow().AddHours(1)));
        var first = await tenant.PostPaymentAsync(body, "before-close");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        Factory.Clock.Advance(TimeSpan.FromHours(2)); // the campaign has closed
        var replay = await tenant.PostPaymentAsync(body, "before-close");
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await replay.Content.ReadAsStringAsync());
        var late = await tenant.PostPaymentAsync(body, "after-close");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, late.StatusCode);
        Assert.Single((await tenant.ListPaymentsAsync()).Items);
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_or_endpoint_is_422()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await TestTenant.ReadAsync<PaymentResponse>(await tenant.PostPaymentAsync(tenant.PaymentBody(1_000), "k"), HttpStatusCode.Created);

        var otherBody = await tenant.PostPaymentAsync(tenant.PaymentBody(1_001), "k");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherBody.StatusCode);
        Assert.Contains("idempotency-key-reused", await otherBody.Content.ReadAsStringAsync());

        var otherEndpoint = await tenant.PostRefundAsync(payment.TransactionId, 100, "k");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherEndpoint.StatusCode);
        Assert.Single((await tenant.ListPaymentsAsync()).Items);
    }

    [Fact]
    public async Task An_idempotency_key_sent_twice_is_refused_and_charges_nothing()
    {
        // Joined, the two would be one key "a,b": a proxy doubling the header on one attempt only would make two payments.
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await tenant.PayAsync(1_000);
        foreach (var send in new Func<HttpRequestMessage>[]
        {
            () => new HttpRequestMessage(HttpMethod.Post, tenant.Path("/payments")) { Content = JsonContent.Create(tenant.PaymentBody(1_500)) },
            () => new HttpRequestMessage(HttpMethod.Post, tenant.Path($"/payments/{payment.TransactionId}/refunds")) { Content = JsonContent.Create(new { amountMinor = 100 }) },
        })
        {
            var request = send();
            request.Headers.Add("Idempotency-Key", ["twice-a", "twice-b"]);
            var problem = await ProblemAssert.ReadAsync(await tenant.Client.SendAsync(request), HttpStatusCode.BadRequest, "validation-failed");
            Assert.Contains("sent once", problem.ToJsonString());
        }

        Assert.Single(Factory.Gateway.Ledger.Charges, c => c.OrganizationId == tenant.OrganizationId);
        Assert.Equal(0, Factory.Gateway.Ledger.RefundedFor(payment.TransactionId));
        Assert.Single((await tenant.ListPaymentsAsync()).Items);
    }

    [Fact]
    public async Task Fifty_concurrent_requests_with_one_key_create_exactly_one_payment()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => tenant.PostPaymentAsync(tenant.PaymentBody(4_200), "storm")));

        var created = responses.Where(r => r.StatusCode == HttpStatusCode.Created).ToList();
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, r.StatusCode.ToString()));
        var ids = new HashSet<Guid>();
        foreach (var response in created) ids.Add((await TestTenant.ReadAsync<PaymentResponse>(response, HttpStatusCode.Created)).TransactionId);
        Assert.Single(ids);
        Assert.Single(created, r => !r.Headers.Contains("Idempotent-Replayed"));

        var listed = await tenant.ListPaymentsAsync();
        Assert.Equal(ids.Single(), Assert.Single(listed.Items).TransactionId);
        Assert.Equal(1, await CountStoredPaymentsAsync(tenant.OrganizationId));
    }

    [Fact]
    public async Task Keys_are_scoped_to_the_organization()
    {
        var a = await TestTenant.CreateAsync(Factory);
        var b = await TestTenant.CreateAsync(Factory);
        var pa = await TestTenant.ReadAsync<PaymentResponse>(await a.PostPaymentAsync(a.PaymentBody(), "shared-key"), HttpStatusCode.Created);
        var pb = await TestTenant.ReadAsync<PaymentResponse>(await b.PostPaymentAsync(b.PaymentBody(), "shared-key"), HttpStatusCode.Created);
        Assert.NotEqual(pa.TransactionId, pb.TransactionId);
        Assert.Equal(b.OrganizationId, pb.OrganizationId);
    }

    [Fact]
    public async Task Refunds_are_idempotent_too()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await tenant.PayAsync(3_000);
        var first = await tenant.PostRefundAsync(payment.TransactionId, 1_000, "refund-key");
        var firstBody = await first.Content.ReadAsStringAsync();
        var again = await tenant.PostRefundAsync(payment.TransactionId, 1_000, "refund-key");
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal(firstBody, await again.Content.ReadAsStringAsync());
        Assert.True(again.Headers.Contains("Idempotent-Replayed"));

        var current = await TestTenant.ReadAsync<PaymentResponse>(await tenant.Client.GetAsync(tenant.Path($"/payments/{payment.TransactionId}")), HttpStatusCode.OK);
        Assert.Equal(1_000, current.RefundedAmountMinor);
    }

    /// <summary>Payments stored for the organization, asked of the store that serves reads.</summary>
    protected virtual async Task<long> CountStoredPaymentsAsync(Guid organizationId)
    {
        await using var connection = new NpgsqlConnection(Factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM payment_transactions WHERE organization_id = $1", connection)
        {
            Parameters = { new() { Value = organizationId } },
        };
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

public sealed class IdempotencyApiOnPostgreSqlTests(ApiFactory factory) : IdempotencyApiTests<ApiFactory>(factory)
{
    [Fact]
    public async Task A_key_a_stuck_transaction_holds_is_a_503_to_retry_and_holds_no_other_create()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        // A refund's record left uncommitted under this key by an instance that froze mid-transaction.
        await using var frozen = new NpgsqlConnection(Factory.ConnectionString);
        await frozen.OpenAsync();
        await using var transaction = await frozen.BeginTransactionAsync();
        await using (var claim = new NpgsqlCommand(
            "INSERT INTO idempotency_records (organization_id, key, fingerprint, resource_id, response_json, created_at) VALUES ($1, 'stuck-key', 'fp', $2, '{}', now())",
            frozen, transaction))
        {
            claim.Parameters.Add(new() { Value = tenant.OrganizationId });
            claim.Parameters.Add(new() { Value = Guid.CreateVersion7() });
            await claim.ExecuteNonQueryAsync();
        }

        var stuck = tenant.PostPaymentAsync(tenant.PaymentBody(1_234), "stuck-key");
        // One after another (the card-testing limit counts a donor's attempts in flight), all while the key is held: stored well
        // within the 30 s command time-out that held every create of the instance behind the stuck one before.
        var others = Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                var created = await tenant.PostPaymentAsync(tenant.PaymentBody(2_000 + i), $"free-key-{i}");
                Assert.True(created.StatusCode == HttpStatusCode.Created, $"{created.StatusCode}: {await created.Content.ReadAsStringAsync()}");
            }
        });
        await others.WaitAsync(TimeSpan.FromSeconds(15));
        var refused = await stuck;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);

        await transaction.RollbackAsync();
        Assert.Equal(HttpStatusCode.Created, (await tenant.PostPaymentAsync(tenant.PaymentBody(1_234), "stuck-key")).StatusCode);
        Assert.Equal(11, (await tenant.ListPaymentsAsync()).Items.Count);
    }
}
