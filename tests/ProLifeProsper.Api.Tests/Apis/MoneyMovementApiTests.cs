using System.Net;
using System.Net.Http.Json;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>
/// What the processor did, checked against what the API answered and stored: no race, retry or lost answer moves money
/// twice or more than the payment. Runs once per routing configuration.
/// </summary>
public abstract class MoneyMovementApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory> where TFactory : ApiFactory
{
    protected TFactory Factory { get; } = factory;

    [Fact]
    public async Task Concurrent_partial_refunds_of_one_balance_never_pay_out_more_than_the_payment()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        for (var round = 0; round < 5; round++)
        {
            var payment = await tenant.PayAsync(100);
            var responses = await Task.WhenAll(tenant.PostRefundAsync(payment.TransactionId, 60, Guid.NewGuid().ToString()),
                tenant.PostRefundAsync(payment.TransactionId, 60, Guid.NewGuid().ToString()));

            Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
            var stored = await GetAsync(tenant, payment.TransactionId);
            Assert.Equal(60, stored.RefundedAmountMinor);
            Assert.Equal(60, Factory.Gateway.Ledger.RefundedFor(payment.TransactionId));
        }
    }

    [Fact]
    public async Task Refusals_ask_the_processor_about_earlier_charges_within_a_budget_per_organization()
    {
        // Each refusal for a closed campaign may heal a lost answer by asking the processor; a tenant scripting against a
        // closed campaign must not turn every request into a processor call (processors limit those per account).
        var tenant = await TestTenant.CreateAsync(Factory);
        var body = tenant.PaymentBody(500, campaignId: await tenant.CreateCampaignEndingAtAsync(Factory.Clock.GetUtcNow().AddMinutes(1)));
        Factory.Clock.Advance(TimeSpan.FromMinutes(2));
        var started = DateTime.UtcNow;
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 80; i++) answers.Add((await tenant.PostPaymentAsync(body, $"closed-{i}")).StatusCode);

        var refill = (int)Math.Ceiling((DateTime.UtcNow - started).TotalSeconds) * 5;
        var lookups = Factory.Gateway.ChargeLookups(tenant.OrganizationId);
        Assert.InRange(lookups, 20, 20 + refill);
        // Within the budget the refusal is final (422); over it the client is asked to retry (429), never told "no" without
        // the processor having been asked: a charge a lost answer left behind must still be found by a retry.
        Assert.Equal(lookups, answers.Count(a => a == HttpStatusCode.UnprocessableEntity));
        Assert.Equal(80 - lookups, answers.Count(a => a == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task A_payment_reusing_a_refunds_key_is_refused_and_its_charge_given_back_once()
    {
        // Creates claim their key after the processor has charged: a key a refund holds is found only then.
        var tenant = await TestTenant.CreateAsync(Factory);
        var first = await tenant.PayAsync(1_000);
        await TestTenant.ReadAsync<RefundResponse>(await tenant.PostRefundAsync(first.TransactionId, 100, "refund-key"), HttpStatusCode.Created);

        // The processor cannot be reached for the give-back: the client is told to retry, and the retry gives it back.
        Factory.Gateway.FailNextBeforeActing(tenant.OrganizationId, "refund");
        await ProblemAssert.ReadAsync(await tenant.PostPaymentAsync(tenant.PaymentBody(1_777), "refund-key"), HttpStatusCode.ServiceUnavailable, "charge-not-given-back");
        Assert.DoesNotContain(Factory.Gateway.Ledger.Refunds, r => r.AmountMinor == 1_777);
        for (var attempt = 0; attempt < 2; attempt++) // a further retry gives back nothing more
        {
            var reused = await tenant.PostPaymentAsync(tenant.PaymentBody(1_777), "refund-key");
            await ProblemAssert.ReadAsync(reused, HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        }

        var charge = Assert.Single(Factory.Gateway.Ledger.Charges, c => c.OrganizationId == tenant.OrganizationId && c.IdempotencyKey == "refund-key");
        Assert.Equal(1_777, charge.AmountMinor);
        Assert.Single(Factory.Gateway.Ledger.Refunds, r => r.AmountMinor == 1_777);
        Assert.Equal(first.TransactionId, Assert.Single((await tenant.ListPaymentsAsync()).Items).TransactionId);
        Assert.Equal(100, (await GetAsync(tenant, first.TransactionId)).RefundedAmountMinor);
        Assert.Equal(100, Factory.Gateway.Ledger.RefundedFor(first.TransactionId)); // given back from the new charge, not from the stored payment
    }

    [Fact]
    public async Task A_charge_under_a_refunds_key_not_given_back_is_given_back_by_the_reconciliation_without_a_retry()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var first = await tenant.PayAsync(1_000);
        await TestTenant.ReadAsync<RefundResponse>(await tenant.PostRefundAsync(first.TransactionId, 100, "refund-key-unretried"), HttpStatusCode.Created);
        Factory.Gateway.FailNextBeforeActing(tenant.OrganizationId, "refund");
        // An amount of its own: the class's tests share one processor ledger.
        await ProblemAssert.ReadAsync(await tenant.PostPaymentAsync(tenant.PaymentBody(1_913), "refund-key-unretried"), HttpStatusCode.ServiceUnavailable, "charge-not-given-back");

        // The client never retries; the reconciliation finds the charge under a key its refund holds, and gives it back, once.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!Factory.Gateway.Ledger.Refunds.Any(r => r.AmountMinor == 1_913))
        {
            Assert.True(DateTime.UtcNow < deadline, "the charge was never given back");
            await Task.Delay(200);
        }
        await Task.Delay(1_500); // further reconciliation runs give back nothing more
        Assert.Single(Factory.Gateway.Ledger.Refunds, r => r.AmountMinor == 1_913);
        Assert.Equal(first.TransactionId, Assert.Single((await tenant.ListPaymentsAsync()).Items).TransactionId);
        Assert.Equal(100, Factory.Gateway.Ledger.RefundedFor(first.TransactionId));
    }

    [Fact]
    public async Task A_charge_under_a_refunds_key_whose_answer_was_lost_is_given_back_by_a_retry_refused_early()
    {
        // The first attempt is charged and its answer lost before it meets the refund's key; the retry is refused before the
        // processor (the campaign closed meanwhile), and must still give that charge back.
        var tenant = await TestTenant.CreateAsync(Factory);
        var first = await tenant.PayAsync(1_000);
        await TestTenant.ReadAsync<RefundResponse>(await tenant.PostRefundAsync(first.TransactionId, 100, "refund-key-lost"), HttpStatusCode.Created);
        var body = tenant.PaymentBody(1_888, campaignId: await tenant.CreateCampaignEndingAtAsync(Factory.Clock.GetUtcNow().AddHours(1)));
        Factory.Gateway.LoseNextAnswer(tenant.OrganizationId, "charge");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await tenant.PostPaymentAsync(body, "refund-key-lost")).StatusCode);
        // A retry while the campaign is still open gives it back after the store write; the later ones, refused early,
        // must give back nothing more (the same ids and amount on both paths).
        await ProblemAssert.ReadAsync(await tenant.PostPaymentAsync(body, "refund-key-lost"), HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.Single(Factory.Gateway.Ledger.Refunds, r => r.AmountMinor == 1_888);

        Factory.Clock.Advance(TimeSpan.FromHours(2));
        for (var attempt = 0; attempt < 2; attempt++)
            await ProblemAssert.ReadAsync(await tenant.PostPaymentAsync(body, "refund-key-lost"), HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");

        Assert.Single(Factory.Gateway.Ledger.Charges, c => c.OrganizationId == tenant.OrganizationId && c.IdempotencyKey == "refund-key-lost");
        Assert.Single(Factory.Gateway.Ledger.Refunds, r => r.AmountMinor == 1_888);
        Assert.Equal(100, Factory.Gateway.Ledger.RefundedFor(first.TransactionId));
        Assert.Equal(first.TransactionId, Assert.Single((await tenant.ListPaymentsAsync()).Items).TransactionId);
    }

    [Fact]
    public async Task Retries_racing_a_refund_that_took_the_balance_answer_as_it_did()
    {
        // A retry that looks for its key before the first request commits, and reads the payment after, finds the balance
        // gone: it must replay the refund (or say it is in flight), never answer "nothing was refunded".
        var tenant = await TestTenant.CreateAsync(Factory);
        for (var round = 0; round < 5; round++)
        {
            var payment = await tenant.PayAsync(1_000);
            var key = $"take-most-{round}";
            var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => tenant.PostRefundAsync(payment.TransactionId, 700, key)));

            foreach (var response in responses)
                Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict,
                    $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            Assert.Equal(700, (await GetAsync(tenant, payment.TransactionId)).RefundedAmountMinor);
            Assert.Equal(700, Factory.Gateway.Ledger.RefundedFor(payment.TransactionId));
        }
    }

    [Fact]
    public async Task Concurrent_refunds_with_one_key_refund_once_at_the_processor()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await tenant.PayAsync(1_000);
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => tenant.PostRefundAsync(payment.TransactionId, 300, "one-refund")));

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, r.StatusCode.ToString()));
        Assert.Equal(300, (await GetAsync(tenant, payment.TransactionId)).RefundedAmountMinor);
        Assert.Single(Factory.Gateway.Ledger.Refunds, r => r.TransactionId == payment.TransactionId);
        Assert.Equal(300, Factory.Gateway.Ledger.RefundedFor(payment.TransactionId));
    }

    [Fact]
    public async Task A_refund_whose_processor_answer_was_lost_is_paid_once_when_retried()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await tenant.PayAsync(1_000);
        Factory.Gateway.LoseNextAnswer(tenant.OrganizationId, "refund");

        var first = await tenant.PostRefundAsync(payment.TransactionId, 400, "lost-answer");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        var retry = await tenant.PostRefundAsync(payment.TransactionId, 400, "lost-answer");
        var receipt = await TestTenant.ReadAsync<RefundResponse>(retry, HttpStatusCode.Created);

        Assert.Equal(400, receipt.AmountMinor);
        Assert.Equal(400, (await GetAsync(tenant, payment.TransactionId)).RefundedAmountMinor);
        var paid = Assert.Single(Factory.Gateway.Ledger.Refunds, r => r.TransactionId == payment.TransactionId);
        Assert.Equal(receipt.RefundId, paid.RefundId);
    }

    [Fact]
    public async Task A_refund_recorded_but_cut_off_before_its_pay_out_is_paid_although_its_client_never_retries()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await tenant.PayAsync(1_000);
        Factory.Gateway.FailNextBeforeActing(tenant.OrganizationId, "refund"); // the step after the refund is recorded fails

        var cutOff = await tenant.PostRefundAsync(payment.TransactionId, 400, "never-retried");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, cutOff.StatusCode);
        Assert.Equal(400, (await GetAsync(tenant, payment.TransactionId)).RefundedAmountMinor); // recorded: the donor is owed 400
        Assert.Equal(0, Factory.Gateway.Ledger.RefundedFor(payment.TransactionId));
        using (var admin = Factory.CreateAdminClient()) // operators see what donors are owed
        {
            var health = System.Text.Json.Nodes.JsonNode.Parse(await admin.GetStringAsync("/api/admin/health"))!;
            Assert.True((long)health["refundPayouts"]!["owed"]! >= 1, health.ToJsonString());
        }

        // The client never comes back; the sweeper pays the donor, once.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Factory.Gateway.Ledger.RefundedFor(payment.TransactionId) == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal(400, Assert.Single(Factory.Gateway.Ledger.Refunds, r => r.TransactionId == payment.TransactionId).AmountMinor);
        while (await OwedPayoutsAsync(payment.TransactionId) > 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal(0, await OwedPayoutsAsync(payment.TransactionId));
    }

    [Fact]
    public async Task Refunds_that_were_paid_or_refused_leave_no_pay_out_owed()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await tenant.PayAsync(1_000);
        Assert.Equal(HttpStatusCode.Created, (await tenant.PostRefundAsync(payment.TransactionId, 300, "paid")).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await tenant.PostRefundAsync(payment.TransactionId, 5_000, "too-much")).StatusCode);
        Assert.Equal(0, await OwedPayoutsAsync(payment.TransactionId)); // nothing for the sweeper, without waiting for it
        Assert.Equal(300, Factory.Gateway.Ledger.RefundedFor(payment.TransactionId));
    }

    protected async Task<long> OwedPayoutsAsync(Guid transactionId)
    {
        var dataSource = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Npgsql.NpgsqlDataSource>(Factory.Services);
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM refund_payouts WHERE transaction_id = $1");
        command.Parameters.Add(new() { Value = transactionId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_charge_whose_processor_answer_was_lost_is_charged_once_and_stored_once_when_retried()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        Factory.Gateway.LoseNextAnswer(tenant.OrganizationId, "charge");

        var first = await tenant.PostPaymentAsync(tenant.PaymentBody(2_000), "charge-lost-answer");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        var payment = await TestTenant.ReadAsync<PaymentResponse>(await tenant.PostPaymentAsync(tenant.PaymentBody(2_000), "charge-lost-answer"), HttpStatusCode.Created);

        Assert.Equal("succeeded", payment.Status);
        Assert.Single(Factory.Gateway.Ledger.Charges, c => c.OrganizationId == tenant.OrganizationId);
        Assert.Equal(payment.TransactionId, Assert.Single((await tenant.ListPaymentsAsync()).Items).TransactionId);
    }

    [Fact]
    public async Task A_charge_whose_answer_was_lost_and_never_retried_is_recorded_by_the_reconciliation()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        Factory.Gateway.LoseNextAnswer(tenant.OrganizationId, "charge"); // as when the instance dies between the charge and the store write

        var lost = await tenant.PostPaymentAsync(tenant.PaymentBody(3_300), "never-retried-charge");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, lost.StatusCode);
        Assert.Empty((await tenant.ListPaymentsAsync()).Items); // charged, and recorded nowhere

        // The client never comes back; the processor's books are compared with the payments once the charge is old enough.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyList<PaymentResponse> listed;
        while ((listed = (await tenant.ListPaymentsAsync()).Items).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the charge was never recorded");
            await Task.Delay(200);
        }

        var recorded = Assert.Single(listed);
        Assert.Equal((3_300L, "succeeded"), (recorded.AmountMinor, recorded.Status));
        Assert.Single(Factory.Gateway.Ledger.Charges, c => c.OrganizationId == tenant.OrganizationId); // nothing charged again
        // A late retry of the key answers with that payment.
        var retried = await TestTenant.ReadAsync<PaymentResponse>(await tenant.PostPaymentAsync(tenant.PaymentBody(3_300), "never-retried-charge"), HttpStatusCode.Created);
        Assert.Equal(recorded.TransactionId, retried.TransactionId);
    }

    [Fact]
    public async Task A_charge_whose_client_went_away_before_the_answer_is_stored_all_the_same()
    {
        // The client (or a proxy's time-out) gives up while the processor is charging: the donor is charged, so the payment
        // must be stored and counted, though no one waits for the answer and no retry ever comes.
        var tenant = await TestTenant.CreateAsync(Factory);
        var held = Factory.Gateway.HoldNextChargeAnswer(tenant.OrganizationId);
        using var giveUp = new CancellationTokenSource();
        var request = new HttpRequestMessage(HttpMethod.Post, tenant.Path("/payments")) { Content = JsonContent.Create(tenant.PaymentBody(1_234)) };
        request.Headers.Add("Idempotency-Key", "client-went-away");
        var sent = tenant.Client.SendAsync(request, giveUp.Token);

        await held.Charged.WaitAsync(TimeSpan.FromSeconds(30));
        giveUp.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sent);
        held.Release();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyList<PaymentResponse> stored;
        while ((stored = (await tenant.ListPaymentsAsync()).Items).Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        var payment = Assert.Single(stored);
        Assert.Equal(1_234, payment.AmountMinor);
        Assert.Equal("succeeded", payment.Status);
        Assert.Single(Factory.Gateway.Ledger.Charges, c => c.OrganizationId == tenant.OrganizationId);
    }

    [Fact]
    public async Task A_retry_of_a_charge_whose_answer_was_lost_is_stored_although_the_campaign_closed_since()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var body = tenant.PaymentBody(4_321, campaignId: await tenant.CreateCampaignEndingAtAsync(Factory.Clock.GetUtcNow().AddHours(1)));
        Factory.Gateway.LoseNextAnswer(tenant.OrganizationId, "charge");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await tenant.PostPaymentAsync(body, "charged-then-closed")).StatusCode);

        Factory.Clock.Advance(TimeSpan.FromHours(2)); // the campaign closed before the client retried
        var payment = await TestTenant.ReadAsync<PaymentResponse>(await tenant.PostPaymentAsync(body, "charged-then-closed"), HttpStatusCode.Created);

        Assert.Equal(4_321, payment.AmountMinor);
        Assert.Equal(payment.TransactionId, Assert.Single((await tenant.ListPaymentsAsync()).Items).TransactionId);
        Assert.Single(Factory.Gateway.Ledger.Charges, c => c.OrganizationId == tenant.OrganizationId);
        // A new attempt is still refused, and charged nothing.
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await tenant.PostPaymentAsync(body, "after-close")).StatusCode);
        Assert.Single(Factory.Gateway.Ledger.Charges, c => c.OrganizationId == tenant.OrganizationId);
    }

    [Fact]
    public async Task A_payment_takes_its_most_refunds_with_the_longest_keys_and_then_refuses_more_with_422()
    {
        // Each refund's key stays in the payment's item on DynamoDB: unbounded, one-unit refunds grew it to the 400 KB item
        // limit, and every refund after that answered 500.
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await tenant.PayAsync(1_000);
        for (var i = 0; i < PaymentTransaction.MaxChanges; i++)
            await TestTenant.ReadAsync<RefundResponse>(await tenant.PostRefundAsync(payment.TransactionId, 1, $"{i:D3}".PadRight(IdempotencyRecord.MaxKeyLength, 'k')), HttpStatusCode.Created);

        var refused = await tenant.PostRefundAsync(payment.TransactionId, 1, Guid.NewGuid().ToString());
        await ProblemAssert.ReadAsync(refused, HttpStatusCode.UnprocessableEntity, "too-many-refunds");
        var stored = await GetAsync(tenant, payment.TransactionId);
        Assert.Equal(PaymentTransaction.MaxChanges, stored.RefundedAmountMinor);
        Assert.Equal(PaymentTransaction.MaxChanges, Factory.Gateway.Ledger.RefundedFor(payment.TransactionId));
        // What is left still goes back in one.
        Assert.Equal(1_000 - PaymentTransaction.MaxChanges, (await TestTenant.ReadAsync<RefundResponse>(
            await tenant.PostRefundAsync(payment.TransactionId, null, Guid.NewGuid().ToString()), HttpStatusCode.Created)).AmountMinor);
    }

    [Fact]
    public async Task Concurrent_creates_with_one_key_charge_once()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => tenant.PostPaymentAsync(tenant.PaymentBody(900), "one-charge")));

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, r.StatusCode.ToString()));
        Assert.Single(Factory.Gateway.Ledger.Charges, c => c.OrganizationId == tenant.OrganizationId);
        Assert.Single((await tenant.ListPaymentsAsync()).Items);
    }

    [Fact]
    public async Task Payments_the_processor_keeps_pending_do_not_block_the_settlement_of_later_ones()
    {
        // Batches are 5 payments in tests: a full batch of held payments sits at the head of the queue.
        var tenant = await TestTenant.CreateAsync(Factory);
        for (var i = 0; i < 6; i++) Factory.Gateway.HoldPending((await tenant.PayAsync(100 + i, "tok_bankTransfer", "bank_transfer")).TransactionId);
        var later = await tenant.PayAsync(777, "tok_bankTransfer", "bank_transfer");

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await GetAsync(tenant, later.TransactionId)).Status == "pending")
        {
            Assert.True(DateTime.UtcNow < deadline, "a payment behind ones the processor holds was never settled");
            await Task.Delay(200);
        }
        Assert.Equal("succeeded", (await GetAsync(tenant, later.TransactionId)).Status);
        Assert.Equal(1, Factory.Gateway.SettlementAsks(later.TransactionId));
    }

    protected static async Task<PaymentResponse> GetAsync(TestTenant tenant, Guid transactionId) =>
        await TestTenant.ReadAsync<PaymentResponse>(await tenant.Client.GetAsync(tenant.Path($"/payments/{transactionId}")), HttpStatusCode.OK);
}

public sealed class MoneyMovementApiOnPostgreSqlTests(ApiFactory factory) : MoneyMovementApiTests<ApiFactory>(factory)
{
    [Fact]
    public async Task A_sweeper_that_looked_before_a_refund_was_owed_anew_does_not_drop_it()
    {
        var payouts = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<ProLifeProsper.Api.Services.Refunds.RefundPayouts>(Factory.Services);
        var (refundId, organizationId, transactionId) = (Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7());
        await payouts.OweAsync(refundId, organizationId, transactionId, "raced", default);
        var seen = await OwedAtAsync(refundId); // the sweeper reads the row and finds no refund recorded yet

        await payouts.OweAsync(refundId, organizationId, transactionId, "raced", default); // the refund's late write landed: owed anew
        await payouts.DropUnrecordedAsync(refundId, seen, default); // the sweeper acts on what it saw

        Assert.Equal(1, await OwedPayoutsAsync(transactionId));
        await payouts.DropUnrecordedAsync(refundId, await OwedAtAsync(refundId), default); // a look after the re-owe may drop it
        Assert.Equal(0, await OwedPayoutsAsync(transactionId));
    }

    private async Task<DateTimeOffset> OwedAtAsync(Guid refundId)
    {
        var dataSource = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Npgsql.NpgsqlDataSource>(Factory.Services);
        await using var command = dataSource.CreateCommand("SELECT owed_at FROM refund_payouts WHERE refund_id = $1");
        command.Parameters.Add(new() { Value = refundId });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return reader.GetFieldValue<DateTimeOffset>(0); // as the sweeper reads it
    }

    [Fact]
    public async Task A_refund_written_after_the_sweeper_gave_up_on_it_is_still_paid_out_when_its_own_pay_out_fails()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var payment = await tenant.PayAsync(1_000);
        Factory.Gateway.FailNextBeforeActing(tenant.OrganizationId, "refund");

        // The payment's row is locked past the sweeper's grace (10 s here): the refund's write waits, and the sweeper,
        // finding no refund recorded, drops the owed pay-out.
        await using var connection = new Npgsql.NpgsqlConnection(Factory.ConnectionString);
        await connection.OpenAsync();
        await using var hold = await connection.BeginTransactionAsync();
        await using (var lockRow = new Npgsql.NpgsqlCommand("SELECT 1 FROM payment_transactions WHERE transaction_id = $1 FOR UPDATE", connection, hold))
        {
            lockRow.Parameters.Add(new() { Value = payment.TransactionId });
            await lockRow.ExecuteScalarAsync();
        }
        var refund = tenant.PostRefundAsync(payment.TransactionId, 400, "written-late");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await OwedPayoutsAsync(payment.TransactionId) == 0) { Assert.True(DateTime.UtcNow < deadline, "never owed"); await Task.Delay(50); }
        while (await OwedPayoutsAsync(payment.TransactionId) > 0) { Assert.True(DateTime.UtcNow < deadline, "the sweeper never looked"); await Task.Delay(100); }
        await hold.CommitAsync();

        // Recorded now, and its own pay-out fails: the donor is owed 400 and nobody would pay it but the sweeper.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await refund).StatusCode);
        Assert.Equal(400, (await GetAsync(tenant, payment.TransactionId)).RefundedAmountMinor);
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (Factory.Gateway.Ledger.RefundedFor(payment.TransactionId) == 0) { Assert.True(DateTime.UtcNow < deadline, "the donor was never paid"); await Task.Delay(100); }
        Assert.Equal(400, Assert.Single(Factory.Gateway.Ledger.Refunds, r => r.TransactionId == payment.TransactionId).AmountMinor);
    }
}

public sealed class MoneyMovementApiOnDynamoDbTests(HighScaleApiFactory factory) : MoneyMovementApiTests<HighScaleApiFactory>(factory);
