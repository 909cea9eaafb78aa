using Amazon.DynamoDBv2;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.LocalInfrastructure;
using ProLifeProsper.Testing.Faults;
using static ProLifeProsper.Api.Tests.Stores.PaymentTransactionStoreContract;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>
/// A create whose key was claimed (the donor charged) but whose payment item DynamoDB would not take: the client gets an
/// error and may never retry, so the instance finishes the create itself once DynamoDB takes writes again (real dynalite
/// behind a line that fails the payment's puts while told to).
/// </summary>
public sealed class UnfinishedCreatesTests(DynamoDbStoreFixture fixture) : IClassFixture<DynamoDbStoreFixture>
{
    [Fact]
    public async Task A_create_whose_payment_item_failed_after_its_key_was_claimed_is_finished_without_a_retry()
    {
        var (store, line, clock, unfinished) = await StoreOverAFailingLineAsync();
        var payment = NewPayment(Guid.CreateVersion7(), DateTimeOffset.UtcNow);
        line.FailPaymentPuts = true;

        await Assert.ThrowsAnyAsync<Exception>(() => store.CreateAsync(payment, RecordFor(payment, "claimed-then-failed"), default));
        Assert.Null(await fixture.Store.GetAsync(payment.OrganizationId, payment.TransactionId, default)); // charged, and nowhere to be seen
        Assert.Equal(1, unfinished.Count);

        // The first background attempt meets DynamoDB still failing: it waits longer and tries again.
        var failedPuts = line.FailedPuts;
        await AdvanceUntilAsync(clock, TimeSpan.FromSeconds(1), () => line.FailedPuts > failedPuts);
        Assert.Null(await fixture.Store.GetAsync(payment.OrganizationId, payment.TransactionId, default));

        line.FailPaymentPuts = false;
        await AdvanceUntilAsync(clock, TimeSpan.FromSeconds(2), () => unfinished.Count == 0);

        // Written as the record holds it, once: no request with the key was ever retried.
        Assert.Equal(payment, await fixture.Store.GetAsync(payment.OrganizationId, payment.TransactionId, default));
        Assert.Equal(RecordFor(payment, "claimed-then-failed"), await fixture.Store.FindIdempotencyRecordAsync(payment.OrganizationId, "claimed-then-failed", default));
        var listed = await fixture.Store.ListAsync(new Domain.Payments.PaymentListQuery(payment.OrganizationId, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, null, 10, null), default);
        Assert.Equal([payment.TransactionId], listed.Items.Select(p => p.TransactionId));
    }

    [Fact]
    public async Task A_create_that_succeeded_holds_nothing_and_a_payment_finished_by_a_retry_meanwhile_is_not_written_again()
    {
        var (store, line, clock, unfinished) = await StoreOverAFailingLineAsync();
        var done = NewPayment(Guid.CreateVersion7(), DateTimeOffset.UtcNow);
        await store.CreateAsync(done, RecordFor(done, "went-through"), default);
        Assert.Equal(0, unfinished.Count);

        var payment = NewPayment(Guid.CreateVersion7(), DateTimeOffset.UtcNow);
        line.FailPaymentPuts = true;
        await Assert.ThrowsAnyAsync<Exception>(() => store.CreateAsync(payment, RecordFor(payment, "retried-first"), default));
        line.FailPaymentPuts = false;

        // The client's retry comes first and finishes it; the payment then moves on (a refund).
        Assert.Equal(RecordFor(payment, "retried-first"), await fixture.Store.CreateAsync(payment, RecordFor(payment, "retried-first"), default));
        var refunded = payment.Refund(500, DateTimeOffset.UtcNow);
        await fixture.Store.UpdateAsync(refunded, null, default);

        await AdvanceUntilAsync(clock, TimeSpan.FromSeconds(1), () => unfinished.Count == 0);
        Assert.Equal(refunded, await fixture.Store.GetAsync(payment.OrganizationId, payment.TransactionId, default)); // not put back to as created
    }

    private static async Task AdvanceUntilAsync(FakeTimeProvider clock, TimeSpan step, Func<bool> done)
    {
        // Advanced again and again: the background wait may start only after an advance.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "the background finish did not happen");
            clock.Advance(step);
            await Task.Delay(20);
        }
    }

    private async Task<(DynamoDbPaymentTransactionStore Store, FailingLine Line, FakeTimeProvider Clock, UnfinishedCreates Unfinished)> StoreOverAFailingLineAsync()
    {
        var line = new FailingLine(fixture.Options.TransactionsTableName) { InnerHandler = new SocketsHttpHandler() };
        var client = HandlerHttpClientFactory.DynamoDbClient((await DynaliteServer.GetAsync()).ServiceUrl, line);
        var options = Options.Create(new DynamoDbOptions { TablePrefix = fixture.Options.TablePrefix, WriteShards = fixture.Options.WriteShards, MaxRetries = 1 });
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var unfinished = new UnfinishedCreates(clock, NullLogger<UnfinishedCreates>.Instance);
        return (new DynamoDbPaymentTransactionStore(client, new DynamoDbCaller(null, options), options, unfinished: unfinished), line, clock, unfinished);
    }

    /// <summary>Answers the payment item's puts with a server error while told to (the idempotency record's go through).</summary>
    private sealed class FailingLine(string transactionsTable) : DelegatingHandler
    {
        private int _failedPuts;

        public volatile bool FailPaymentPuts;

        public int FailedPuts => Volatile.Read(ref _failedPuts);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var isPut = request.Headers.TryGetValues("X-Amz-Target", out var target) && target.Single().EndsWith(".PutItem", StringComparison.Ordinal);
            if (isPut && FailPaymentPuts && (await request.Content!.ReadAsStringAsync(cancellationToken)).Contains($"\"{transactionsTable}\"", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _failedPuts);
                return new HttpResponseMessage(System.Net.HttpStatusCode.InternalServerError)
                {
                    Content = new StringContent("{\"__type\":\"com.amazonaws.dynamodb.v20120810#InternalServerError\",\"message\":\"injected\"}",
                        System.Text.Encoding.UTF8, "application/x-amz-json-1.0"),
                };
            }
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
