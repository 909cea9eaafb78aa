using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>
/// The behaviour every payment store must have, written once and run against each real store.
/// Each test uses fresh organization ids, so tests share one store without seeing each other.
/// </summary>
public abstract class PaymentTransactionStoreContract
{
    private static readonly DateTimeOffset BaseTime = new(2026, 3, 14, 9, 0, 0, TimeSpan.Zero);

    protected abstract IPaymentTransactionStore Store { get; }

    [Fact]
    public async Task Create_then_get_returns_the_same_payment()
    {
        var payment = NewPayment(Guid.CreateVersion7(), BaseTime);
        var record = await Store.CreateAsync(payment, RecordFor(payment, "k1"), default);
        Assert.Equal(payment.TransactionId, record.ResourceId);

        var stored = await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default);
        Assert.Equal(payment, stored);
        Assert.Equal(RecordFor(payment, "k1"), await Store.FindIdempotencyRecordAsync(payment.OrganizationId, "k1", default));
    }

    [Fact]
    public async Task A_payment_whose_id_is_not_a_UUIDv7_is_found_by_its_organization_only()
    {
        // Ids this API issues are UUIDv7, but a payment copied from elsewhere, or a client guessing, may use any id.
        var payment = NewPayment(Guid.CreateVersion7(), BaseTime) with { TransactionId = Guid.NewGuid() };
        await Store.CreateAsync(payment, RecordFor(payment, "v4"), default);

        Assert.Equal(payment, await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default));
        Assert.Null(await Store.GetAsync(Guid.CreateVersion7(), payment.TransactionId, default));
    }

    [Fact]
    public async Task Creating_again_with_a_used_key_writes_nothing_and_returns_the_first_record()
    {
        var org = Guid.CreateVersion7();
        var first = NewPayment(org, BaseTime);
        await Store.CreateAsync(first, RecordFor(first, "same"), default);

        var second = NewPayment(org, BaseTime.AddSeconds(1), amount: 999);
        var record = await Store.CreateAsync(second, RecordFor(second, "same", fingerprint: "other"), default);

        Assert.Equal(first.TransactionId, record.ResourceId);
        Assert.Equal("fp", record.Fingerprint);
        Assert.Null(await Store.GetAsync(org, second.TransactionId, default));
        Assert.Single((await ListAllAsync(org)).Items);
    }

    [Fact]
    public async Task Concurrent_creates_with_one_key_store_exactly_one_payment()
    {
        var org = Guid.CreateVersion7();
        var candidates = Enumerable.Range(0, 20).Select(i => NewPayment(org, BaseTime.AddMilliseconds(i))).ToList();
        var records = await Task.WhenAll(candidates.Select(p => Task.Run(() => Store.CreateAsync(p, RecordFor(p, "race"), default))));

        var winner = Assert.Single(records.Select(r => r.ResourceId).Distinct());
        Assert.Contains(candidates, p => p.TransactionId == winner);
        Assert.Equal(winner, Assert.Single((await ListAllAsync(org)).Items).TransactionId);
    }

    [Fact]
    public async Task Idempotency_keys_and_payments_are_scoped_to_the_organization()
    {
        var a = NewPayment(Guid.CreateVersion7(), BaseTime);
        var b = NewPayment(Guid.CreateVersion7(), BaseTime);
        await Store.CreateAsync(a, RecordFor(a, "shared"), default);
        var recordB = await Store.CreateAsync(b, RecordFor(b, "shared"), default);

        Assert.Equal(b.TransactionId, recordB.ResourceId);
        Assert.Null(await Store.GetAsync(a.OrganizationId, b.TransactionId, default));
        Assert.Equal(a.TransactionId, Assert.Single((await ListAllAsync(a.OrganizationId)).Items).TransactionId);
        Assert.Null(await Store.FindIdempotencyRecordAsync(Guid.CreateVersion7(), "shared", default));
    }

    [Fact]
    public async Task Listing_pages_newest_first_with_exact_boundaries_including_equal_timestamps()
    {
        var org = Guid.CreateVersion7();
        var payments = new List<PaymentTransaction>();
        for (var i = 0; i < 23; i++)
        {
            // Groups of three share a timestamp, so the transaction id must break ties.
            var payment = NewPayment(org, BaseTime.AddMinutes(i / 3), status: i % 4 == 0 ? PaymentStatus.Failed : PaymentStatus.Succeeded);
            payments.Add(payment);
            await Store.CreateAsync(payment, RecordFor(payment, $"k{i}"), default);
        }
        var expected = payments.OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.TransactionId.ToString()).Select(p => p.TransactionId).ToList();

        var seen = new List<Guid>();
        PageCursor? cursor = null;
        do
        {
            var page = await Store.ListAsync(new PaymentListQuery(org, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, null, 4, cursor), default);
            Assert.InRange(page.Items.Count, 1, 4);
            seen.AddRange(page.Items.Select(p => p.TransactionId));
            cursor = page.Next;
        }
        while (cursor is not null);
        Assert.Equal(expected, seen);

        var failed = await Store.ListAsync(new PaymentListQuery(org, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, PaymentStatus.Failed, 500, null), default);
        Assert.Equal(payments.Count(p => p.Status == PaymentStatus.Failed), failed.Items.Count);
        Assert.All(failed.Items, p => Assert.Equal(PaymentStatus.Failed, p.Status));

        var range = await Store.ListAsync(new PaymentListQuery(org, BaseTime.AddMinutes(2), BaseTime.AddMinutes(4), null, 500, null), default);
        Assert.Equal(6, range.Items.Count);
        Assert.All(range.Items, p => Assert.InRange(p.CreatedAt, BaseTime.AddMinutes(2), BaseTime.AddMinutes(3)));
    }

    [Fact]
    public async Task Status_filtered_pages_have_no_gaps()
    {
        var org = Guid.CreateVersion7();
        var pending = new List<Guid>();
        for (var i = 0; i < 30; i++)
        {
            var payment = NewPayment(org, BaseTime.AddSeconds(i), status: i % 5 == 0 ? PaymentStatus.Pending : PaymentStatus.Succeeded);
            if (payment.Status == PaymentStatus.Pending) pending.Add(payment.TransactionId);
            await Store.CreateAsync(payment, RecordFor(payment, $"k{i}"), default);
        }
        var seen = new List<Guid>();
        PageCursor? cursor = null;
        do
        {
            var page = await Store.ListAsync(new PaymentListQuery(org, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, PaymentStatus.Pending, 2, cursor), default);
            seen.AddRange(page.Items.Select(p => p.TransactionId));
            cursor = page.Next;
        }
        while (cursor is not null);
        Assert.Equal(Enumerable.Reverse(pending), seen);
    }

    [Fact]
    public async Task Pending_payments_come_oldest_first_across_organizations()
    {
        var cutoff = DateTimeOffset.UtcNow.AddYears(-30); // far in the past, so other tests' payments are not "before" it
        var created = new List<PaymentTransaction>();
        foreach (var minutes in new[] { 5, 1, 3 })
        {
            var payment = NewPayment(Guid.CreateVersion7(), cutoff.AddMinutes(-minutes), status: PaymentStatus.Pending);
            created.Add(payment);
            await Store.CreateAsync(payment, RecordFor(payment, "p"), default);
        }
        var settled = NewPayment(Guid.CreateVersion7(), cutoff.AddMinutes(-10), status: PaymentStatus.Succeeded);
        await Store.CreateAsync(settled, RecordFor(settled, "s"), default);

        var due = (await Store.GetPendingAsync(cutoff, null, 1000, default)).Where(p => created.Any(c => c.TransactionId == p.TransactionId)).ToList();
        Assert.Equal(created.OrderBy(p => p.CreatedAt).Select(p => p.TransactionId), due.Select(p => p.TransactionId));
        Assert.DoesNotContain(await Store.GetPendingAsync(cutoff, null, 1000, default), p => p.TransactionId == settled.TransactionId);
        Assert.DoesNotContain(await Store.GetPendingAsync(cutoff.AddMinutes(-4), null, 1000, default), p => p.TransactionId == created[1].TransactionId);
    }

    [Fact]
    public async Task Settling_is_a_conditional_update_on_the_version()
    {
        var payment = NewPayment(Guid.CreateVersion7(), BaseTime, status: PaymentStatus.Pending);
        await Store.CreateAsync(payment, RecordFor(payment, "k"), default);

        var settled = payment.Settle(BaseTime.AddMinutes(1));
        Assert.Null(await Store.UpdateAsync(settled, null, default));
        Assert.Equal(settled, await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default));

        // A second writer still holding version 1 loses.
        var stale = payment.Fail("late", BaseTime.AddMinutes(2));
        var conflict = await Assert.ThrowsAsync<DomainException>(() => Store.UpdateAsync(stale, null, default));
        Assert.Equal(DomainErrorKind.Conflict, conflict.Kind);
        Assert.Equal(PaymentStatus.Succeeded, (await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default))!.Status);
    }

    [Fact]
    public async Task Refunds_apply_with_their_record_and_a_used_key_applies_nothing()
    {
        var payment = NewPayment(Guid.CreateVersion7(), BaseTime, amount: 10_000);
        await Store.CreateAsync(payment, RecordFor(payment, "pay"), default);

        var partial = payment.Refund(4_000, BaseTime.AddMinutes(1));
        var refundRecord = new IdempotencyRecord(payment.OrganizationId, "refund-1", "fp-r1", Guid.CreateVersion7(), "{}", BaseTime.AddMinutes(1));
        Assert.Equal(refundRecord, await Store.UpdateAsync(partial, refundRecord, default));

        var full = partial.Refund(6_000, BaseTime.AddMinutes(2));
        var reused = new IdempotencyRecord(payment.OrganizationId, "refund-1", "fp-r2", Guid.CreateVersion7(), "{}", BaseTime.AddMinutes(2));
        var inEffect = await Store.UpdateAsync(full, reused, default);
        Assert.Equal(refundRecord.ResourceId, inEffect!.ResourceId);
        Assert.Equal(partial, await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default));

        var fullRecord = reused with { Key = "refund-2" };
        await Store.UpdateAsync(full, fullRecord, default);
        var stored = await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default);
        Assert.Equal(PaymentStatus.Refunded, stored!.Status);
        Assert.Equal(10_000, stored.RefundedAmountMinor);
        Assert.Throws<DomainException>(() => stored.Refund(1, BaseTime.AddMinutes(3)));
    }

    [Fact]
    public async Task A_stale_refund_is_refused_and_its_record_is_not_kept()
    {
        var payment = NewPayment(Guid.CreateVersion7(), BaseTime, amount: 1_000);
        await Store.CreateAsync(payment, RecordFor(payment, "pay"), default);
        await Store.UpdateAsync(payment.Refund(600, BaseTime.AddMinutes(1)), null, default);

        var stale = payment.Refund(600, BaseTime.AddMinutes(2)); // computed from version 1: would over-refund
        var record = new IdempotencyRecord(payment.OrganizationId, "stale", "fp", Guid.CreateVersion7(), "{}", BaseTime);
        await Assert.ThrowsAsync<DomainException>(() => Store.UpdateAsync(stale, record, default));
        Assert.Null(await Store.FindIdempotencyRecordAsync(payment.OrganizationId, "stale", default));
        Assert.Equal(600, (await Store.GetAsync(payment.OrganizationId, payment.TransactionId, default))!.RefundedAmountMinor);
    }

    [Fact]
    public async Task Hourly_totals_count_captured_payments_per_hour_and_currency()
    {
        var org = Guid.CreateVersion7();
        var rows = new[]
        {
            NewPayment(org, BaseTime.AddMinutes(5), amount: 100),
            NewPayment(org, BaseTime.AddMinutes(59), amount: 200),
            NewPayment(org, BaseTime.AddMinutes(61), amount: 300),
            NewPayment(org, BaseTime.AddMinutes(62), amount: 400, currency: "EUR"),
            NewPayment(org, BaseTime.AddMinutes(63), amount: 999, status: PaymentStatus.Failed),
            NewPayment(org, BaseTime.AddMinutes(64), amount: 999, status: PaymentStatus.Pending),
            NewPayment(org, BaseTime.AddHours(5), amount: 999),
        };
        foreach (var (row, i) in rows.Select((r, i) => (r, i))) await Store.CreateAsync(row, RecordFor(row, $"h{i}"), default);
        await Store.UpdateAsync(rows[2].Refund(50, BaseTime.AddHours(2)), null, default);

        var totals = await Store.GetHourlyTotalsAsync(org, BaseTime, BaseTime.AddHours(2), default);
        Assert.Equal(
            [
                new HourlyPaymentTotal(BaseTime, "USD", 2, 300, 0),
                new HourlyPaymentTotal(BaseTime.AddHours(1), "EUR", 1, 400, 0),
                new HourlyPaymentTotal(BaseTime.AddHours(1), "USD", 1, 300, 50),
            ],
            totals.OrderBy(t => t.Hour).ThenBy(t => t.Currency));
    }

    [Fact]
    public async Task Campaign_totals_are_net_of_refunds_and_ignore_failed_pending_and_fully_refunded()
    {
        var org = Guid.CreateVersion7();
        var campaign = Guid.CreateVersion7();
        var other = Guid.CreateVersion7();
        var rows = new[]
        {
            NewPayment(org, BaseTime, amount: 1_000, campaign: campaign),
            NewPayment(org, BaseTime, amount: 2_000, campaign: campaign),
            NewPayment(org, BaseTime, amount: 4_000, campaign: campaign),
            NewPayment(org, BaseTime, amount: 8_000, campaign: campaign, status: PaymentStatus.Failed),
            NewPayment(org, BaseTime, amount: 16_000, campaign: campaign, status: PaymentStatus.Pending),
            NewPayment(org, BaseTime, amount: 32_000, campaign: other),
            NewPayment(Guid.CreateVersion7(), BaseTime, amount: 64_000, campaign: campaign),
        };
        foreach (var (row, i) in rows.Select((r, i) => (r, i))) await Store.CreateAsync(row, RecordFor(row, $"c{i}"), default);
        await Store.UpdateAsync(rows[1].Refund(500, BaseTime), null, default);
        await Store.UpdateAsync(rows[2].Refund(4_000, BaseTime), null, default);

        var totals = await Store.GetCampaignTotalsAsync(org, [campaign, other, Guid.CreateVersion7()], default);
        Assert.Equal(new CampaignTotals(2_500, 2), totals[campaign]);
        Assert.Equal(new CampaignTotals(32_000, 1), totals[other]);
        Assert.Equal(2, totals.Count);
    }

    [Fact]
    public async Task Totals_past_a_longs_range_are_held_at_its_maximum_instead_of_failing_or_wrapping()
    {
        var org = Guid.CreateVersion7();
        var campaign = Guid.CreateVersion7();
        for (var i = 0; i < 3; i++)
        {
            // Beyond what the API takes in one payment: what ~92 million payments of its largest amount add up to.
            var payment = NewPayment(org, BaseTime.AddMinutes(i), amount: long.MaxValue / 2, campaign: campaign);
            await Store.CreateAsync(payment, RecordFor(payment, $"huge-{i}"), default);
        }

        Assert.Equal(new CampaignTotals(long.MaxValue, 3), (await Store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        Assert.Equal(new HourlyPaymentTotal(BaseTime, "USD", 3, long.MaxValue, 0), Assert.Single(await Store.GetHourlyTotalsAsync(org, BaseTime, BaseTime.AddHours(1), default)));
    }

    internal static PaymentTransaction NewPayment(Guid organizationId, DateTimeOffset createdAt, long amount = 2_500,
        PaymentStatus status = PaymentStatus.Succeeded, string currency = "USD", Guid? campaign = null) => new()
    {
        TransactionId = Guid.CreateVersion7(UtcClock.TruncateToMilliseconds(createdAt)),
        OrganizationId = organizationId,
        CampaignId = campaign ?? Guid.CreateVersion7(),
        DonorId = Guid.CreateVersion7(),
        AmountMinor = amount,
        Currency = currency,
        Status = status,
        PaymentMethodType = status == PaymentStatus.Pending ? PaymentMethodType.BankTransfer : PaymentMethodType.Card,
        PaymentMethodToken = status == PaymentStatus.Pending ? "tok_bankTransfer" : "tok_visa",
        IdempotencyKey = Guid.NewGuid().ToString(),
        FailureCode = status == PaymentStatus.Failed ? "card_declined" : null,
        CreatedAt = UtcClock.TruncateToMilliseconds(createdAt),
        UpdatedAt = UtcClock.TruncateToMilliseconds(createdAt),
    };

    internal static IdempotencyRecord RecordFor(PaymentTransaction payment, string key, string fingerprint = "fp") =>
        new(payment.OrganizationId, key, fingerprint, payment.TransactionId, PaymentSnapshotJson.Serialize(payment), payment.CreatedAt);

    private Task<Page<PaymentTransaction>> ListAllAsync(Guid organizationId) =>
        Store.ListAsync(new PaymentListQuery(organizationId, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, null, 500, null), default);
}
