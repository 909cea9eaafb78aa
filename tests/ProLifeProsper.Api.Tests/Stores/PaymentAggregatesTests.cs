using System.Diagnostics.Metrics;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.DynamoDb.Aggregates;
using ProLifeProsper.Api.Storage.Instrumentation;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Domain.Payments;
using static ProLifeProsper.Api.Tests.Stores.PaymentTransactionStoreContract;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>
/// Campaign progress and hourly analytics from kept totals (real dynalite): closed hours are read once and kept, and every
/// write that can land in a kept hour — a refund, a settlement, a late create, a migration copy — makes the next read
/// count it, including one that lands after a reader has already kept the hour again (the fault marks exist for).
/// </summary>
public sealed class PaymentAggregatesTests(DynamoDbStoreFixture fixture) : IClassFixture<DynamoDbStoreFixture>
{
    private readonly ShiftedClock _clock = new();

    private DynamoDbPaymentTransactionStore NewStore()
    {
        var options = Options.Create(fixture.Options);
        return new DynamoDbPaymentTransactionStore(fixture.Client, new DynamoDbCaller(null, options), options, time: _clock);
    }

    [Fact]
    public async Task Closed_hours_are_read_from_their_payments_once_and_then_answered_from_kept_totals()
    {
        var store = NewStore();
        var (org, campaign, payments) = await LoadHistoryAsync(days: 3);
        var from = Hour(-3 * 24).AddMinutes(30); // edges inside an hour are read from the payments

        Assert.Equal(Expected(payments, from, _clock.GetUtcNow()), await store.GetHourlyTotalsAsync(org, from, _clock.GetUtcNow(), default));
        Assert.Equal(ExpectedCampaign(payments, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        var kept = await KeptBucketsAsync(org);
        Assert.Contains(kept, b => b.StartsWith("D#", StringComparison.Ordinal)); // whole closed days
        Assert.Contains(kept, b => b.StartsWith("H#", StringComparison.Ordinal)); // hours with payments

        // A change behind the store's back (no mark) is not seen: the closed hours are no longer read from their payments.
        var changed = payments.First(p => p.Status == PaymentStatus.Succeeded && p.CampaignId == campaign && p.CreatedAt >= from);
        await RawAmountAsync(changed, 1_000_000);
        Assert.NotEqual(ExpectedCampaign(payments.Select(p => p == changed ? p with { AmountMinor = 1_000_000 } : p), campaign), ExpectedCampaign(payments, campaign));
        Assert.Equal(ExpectedCampaign(payments, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        Assert.Equal(Expected(payments, from, _clock.GetUtcNow()), await store.GetHourlyTotalsAsync(org, from, _clock.GetUtcNow(), default));
    }

    [Fact]
    public async Task Refunds_settlements_late_creates_and_migration_copies_into_kept_hours_are_counted()
    {
        var store = NewStore();
        var (org, campaign, payments) = await LoadHistoryAsync(days: 2);
        var from = Hour(-2 * 24);
        await store.GetCampaignTotalsAsync(org, [campaign], default); // keeps every closed hour and day
        _clock.Advance(TimeSpan.FromHours(1));

        // Each write lands in a different hour that is kept (it has payments), so each path's mark is what makes it counted.
        var succeeded = payments.Where(p => p.Status == PaymentStatus.Succeeded && p.CampaignId == campaign).ToList();
        var refunded = succeeded[0];
        var settled = payments.First(p => p.Status == PaymentStatus.Pending && p.CampaignId == campaign);
        var changed = new List<PaymentTransaction>(payments.Where(p => p != refunded && p != settled))
        {
            refunded.Refund(700, refunded.CreatedAt.AddMinutes(1)),
            settled.Settle(settled.CreatedAt.AddMinutes(1)),
        };
        await store.UpdateAsync(changed[^2], null, default);
        await store.UpdateAsync(changed[^1], RecordFor(changed[^1], "settle-" + settled.TransactionId), default);
        DateTimeOffset InHourOf(PaymentTransaction p) => PaymentItemKeys.FloorHour(p.CreatedAt).AddMinutes(59);
        var late = NewPayment(org, InHourOf(succeeded[1]), amount: 1_111, campaign: campaign);
        await store.CreateAsync(late, RecordFor(late, "late-create"), default);
        var copied = NewPayment(org, InHourOf(succeeded[2]), amount: 2_222, campaign: campaign);
        Assert.True(await store.CopyAsync(copied, default));
        var batched = NewPayment(org, InHourOf(succeeded[3]), amount: 3_333, campaign: campaign);
        await store.PutCopiesAsync(await store.CopyItemsAsync([batched], [], default), long.MaxValue, default);
        changed.AddRange([late, copied, batched]);

        Assert.Equal(ExpectedCampaign(changed, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        Assert.Equal(Expected(changed, from, _clock.GetUtcNow()), await store.GetHourlyTotalsAsync(org, from, _clock.GetUtcNow(), default));
    }

    [Fact]
    public async Task A_marked_write_that_lands_after_a_reader_kept_its_hour_again_is_still_counted()
    {
        var store = NewStore();
        var (org, campaign, payments) = await LoadHistoryAsync(days: 1);
        await store.GetCampaignTotalsAsync(org, [campaign], default);
        var victim = payments.First(p => p.Status == PaymentStatus.Succeeded && p.CampaignId == campaign);

        await AssertAStalledMarkedWriteIsCountedAsync(store, org, campaign, payments, victim);
    }

    [Fact]
    public async Task A_write_marked_by_a_clock_a_minute_behind_is_counted_by_a_reader_whose_clock_is_a_minute_ahead()
    {
        // Two replicas on one table, their clocks two minutes apart (each a minute off): the skew Settle allows for.
        var writerClock = new ShiftedClock();
        writerClock.Advance(-PaymentAggregates.MaxClockSkew);
        _clock.Advance(PaymentAggregates.MaxClockSkew);
        var options = Options.Create(fixture.Options);
        var writer = new DynamoDbPaymentTransactionStore(fixture.Client, new DynamoDbCaller(null, options), options, time: writerClock);
        var reader = NewStore();
        var (org, campaign, payments) = await LoadHistoryAsync(days: 1);
        await reader.GetCampaignTotalsAsync(org, [campaign], default);
        var victim = payments.First(p => p.Status == PaymentStatus.Succeeded && p.CampaignId == campaign);

        // The writer marks (its clock says a minute earlier than it is), stalls; the reader keeps the hour again; it lands.
        await writer.Aggregates.MarkAsync([(org, victim.CreatedAt)], default);
        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(ExpectedCampaign(payments, campaign), (await reader.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        await RawAmountAsync(victim, victim.AmountMinor + 6_000);

        // Two minutes apart, the mark looks old to the reader; the hour it kept 3 s after the mark still does not stand.
        _clock.Advance(TimeSpan.FromSeconds(1));
        var after = payments.Select(p => p == victim ? p with { AmountMinor = p.AmountMinor + 6_000 } : p);
        Assert.Equal(ExpectedCampaign(after, campaign), (await reader.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
    }

    [Fact]
    public async Task A_closed_month_is_kept_whole_and_writes_into_it_are_still_counted()
    {
        var store = NewStore();
        // Mid-month, whatever the date of the run: the month before is closed, and so is the one before that.
        var now = _clock.GetUtcNow();
        _clock.Advance(new DateTimeOffset(now.Year, now.Month, 15, 12, 0, 0, TimeSpan.Zero).AddMonths(1) - now);
        var (org, campaign, payments) = await LoadHistoryAsync(days: 62);
        var month = AggregateKeys.FloorMonth(_clock.GetUtcNow()).AddMonths(-1);
        Assert.Equal(ExpectedCampaign(payments, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        Assert.Contains(AggregateKeys.MonthBucket(month), await KeptBucketsAsync(org));

        var inMonth = payments.Where(p => p.Status == PaymentStatus.Succeeded && p.CampaignId == campaign && AggregateKeys.FloorMonth(p.CreatedAt) == month)
            .DistinctBy(p => PaymentItemKeys.FloorHour(p.CreatedAt)).ToList();
        var (hidden, refunded, stalled) = (inMonth[0], inMonth[1], inMonth[2]);
        var expected = payments.ToList();

        // Behind the store's back (no mark), with the month's kept days and hours gone: the kept month alone answers for it.
        foreach (var bucket in (await KeptBucketsAsync(org)).Where(b => b[0] is 'D' or 'H' && b[2..].StartsWith(month.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)))
            await fixture.Client.DeleteItemAsync(fixture.Options.AggregatesTableName, AggregateKeys.KeyOf(org, bucket));
        await RawAmountAsync(hidden, hidden.AmountMinor + 100_000);
        Assert.Equal(ExpectedCampaign(expected, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        await RawAmountAsync(hidden, hidden.AmountMinor); // as it was: the month's days are read again below

        // A refund marks its hour in the day and in the month: the month no longer stands; only that hour is read again.
        _clock.Advance(TimeSpan.FromMinutes(1));
        var refund = refunded.Refund(800, refunded.CreatedAt.AddMinutes(1));
        await store.UpdateAsync(refund, null, default);
        expected[expected.IndexOf(refunded)] = refund;
        Assert.Equal(ExpectedCampaign(expected, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);

        // A marked write that lands after a reader kept the month again is counted by the first read after Settle.
        await store.Aggregates.MarkAsync([(org, stalled.CreatedAt)], default);
        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(ExpectedCampaign(expected, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        await RawAmountAsync(stalled, stalled.AmountMinor + 7_000);
        expected[expected.IndexOf(stalled)] = stalled with { AmountMinor = stalled.AmountMinor + 7_000 };
        _clock.Advance(store.Aggregates.Settle - TimeSpan.FromSeconds(2));
        Assert.Equal(ExpectedCampaign(expected, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(ExpectedCampaign(expected, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        Assert.Equal(Expected(expected, month, month.AddMonths(1)), await store.GetHourlyTotalsAsync(org, month, month.AddMonths(1), default));
    }

    [Fact]
    public async Task Kept_totals_that_cannot_be_read_or_were_kept_under_another_generation_are_read_again()
    {
        var store = NewStore();
        var (org, campaign, payments) = await LoadHistoryAsync(days: 2);
        await store.GetCampaignTotalsAsync(org, [campaign], default);
        var victim = payments.First(p => p.Status == PaymentStatus.Succeeded && p.CampaignId == campaign);
        await RawAmountAsync(victim, victim.AmountMinor + 9_000); // behind the store's back: kept totals do not show it
        var after = payments.Select(p => p == victim ? p with { AmountMinor = p.AmountMinor + 9_000 } : p).ToList();
        Assert.Equal(ExpectedCampaign(payments, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);

        // Unreadable kept totals (a damaged item) are not an error: the payments are read instead.
        foreach (var bucket in await KeptBucketsAsync(org))
            if (!bucket.StartsWith("X#", StringComparison.Ordinal))
                await fixture.Client.UpdateItemAsync(new UpdateItemRequest
                {
                    TableName = fixture.Options.AggregatesTableName, Key = AggregateKeys.KeyOf(org, bucket),
                    UpdateExpression = "SET totals = :bad", ExpressionAttributeValues = new() { [":bad"] = new("{\"h\":") },
                });
        Assert.Equal(ExpectedCampaign(after, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);

        // Kept again; another change behind the back is hidden until the operator raises the generation.
        await RawAmountAsync(victim, victim.AmountMinor);
        Assert.Equal(ExpectedCampaign(after, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        var options = Options.Create(new DynamoDbOptions { TablePrefix = fixture.Options.TablePrefix, WriteShards = fixture.Options.WriteShards, AggregatesGeneration = 2 });
        var raised = new DynamoDbPaymentTransactionStore(fixture.Client, new DynamoDbCaller(null, options), options, time: _clock);
        Assert.Equal(ExpectedCampaign(payments, campaign), (await raised.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
    }

    [Fact]
    public async Task Payments_of_hours_not_closed_yet_are_counted_as_they_are_written()
    {
        var store = NewStore();
        var org = Guid.CreateVersion7();
        var campaign = Guid.CreateVersion7();
        var now = NewPayment(org, _clock.GetUtcNow(), amount: 4_000, campaign: campaign);
        await store.CreateAsync(now, RecordFor(now, "now"), default);
        Assert.Equal(new CampaignTotals(4_000, 1), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        var refunded = now.Refund(1_500, now.CreatedAt.AddSeconds(1));
        await store.UpdateAsync(refunded, null, default);
        Assert.Equal(new CampaignTotals(2_500, 1), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        Assert.Equal([new HourlyPaymentTotal(PaymentItemKeys.FloorHour(now.CreatedAt), "USD", 1, 4_000, 1_500)],
            await store.GetHourlyTotalsAsync(org, now.CreatedAt.AddMinutes(-1), now.CreatedAt.AddMinutes(1), default));
    }

    // ----- the open hour: its closed slices are kept as closed hours are -----

    [Fact]
    public async Task The_open_hours_closed_slices_are_read_from_their_payments_once_and_then_answered_from_kept_totals()
    {
        var store = NewStore();
        var (org, campaign, hour, payments) = await LoadOpenHourAsync(minute: 40); // slices up to :35 have closed
        Assert.Equal(ExpectedCampaign(payments, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        Assert.Contains(AggregateKeys.SlicesBucket(hour), await KeptBucketsAsync(org));

        // Behind the store's back (no mark): a change in a closed slice is not seen (kept), one since the last closed slice is (live).
        var inClosedSlice = payments.Single(p => p.CreatedAt == hour.AddMinutes(12));
        var live = payments.Single(p => p.CreatedAt == hour.AddMinutes(36));
        await RawAmountAsync(inClosedSlice, 1_000_000);
        await RawAmountAsync(live, 2_000_000);
        var expected = payments.Select(p => p == live ? p with { AmountMinor = 2_000_000 } : p).ToList();
        var now = _clock.GetUtcNow();
        Assert.Equal(ExpectedCampaign(expected, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        Assert.Equal(Expected(expected, hour, now), await store.GetHourlyTotalsAsync(org, hour, now, default));
        // The last 60 minutes (from inside the hour before) read the open hour from its slices too; a range ending inside a
        // closed slice counts only up to its end.
        Assert.Equal(Expected(expected, now.AddHours(-1), now), await store.GetHourlyTotalsAsync(org, now.AddHours(-1), now, default));
        Assert.Equal(Expected(expected, hour, hour.AddMinutes(17)), await store.GetHourlyTotalsAsync(org, hour, hour.AddMinutes(17), default));

        // A kept slice that cannot be read is read again from its payments.
        await fixture.Client.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = fixture.Options.AggregatesTableName, Key = AggregateKeys.KeyOf(org, AggregateKeys.SlicesBucket(hour)),
            UpdateExpression = "SET #slice.totals = :bad", ExpressionAttributeNames = new() { ["#slice"] = AggregateKeys.SliceAttribute(hour.AddMinutes(10)) },
            ExpressionAttributeValues = new() { [":bad"] = new("{\"h\":") },
        });
        var reread = expected.Select(p => p == inClosedSlice ? p with { AmountMinor = 1_000_000 } : p).ToList();
        Assert.Equal(ExpectedCampaign(reread, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);

        // Once the hour has closed it is summed from its kept slices, its other slices read from their payments, and kept as
        // an hour: a change behind the store's back in a kept slice is still not seen, a payment of its last slice is.
        var beforeTheBack = payments.Single(p => p.CreatedAt == hour.AddMinutes(33));
        await RawAmountAsync(beforeTheBack, 3_000_000);
        var lastSlice = NewPayment(org, hour.AddMinutes(57), amount: 6_000, campaign: campaign);
        await PutRawAsync([lastSlice]);
        _clock.Advance(TimeSpan.FromMinutes(25) + store.Aggregates.Settle);
        var closed = reread.Append(lastSlice).ToList();
        Assert.Equal(ExpectedCampaign(closed, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        Assert.Contains(AggregateKeys.HourBucket(hour), await KeptBucketsAsync(org));
    }

    [Fact]
    public async Task A_quiet_organizations_slices_are_read_again_rather_than_kept()
    {
        var store = NewStore();
        var (org, campaign, hour, payments) = await LoadOpenHourAsync(minute: 40, quiet: true); // a payment or two per slice
        Assert.Equal(ExpectedCampaign(payments, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        Assert.DoesNotContain(AggregateKeys.SlicesBucket(hour), await KeptBucketsAsync(org)); // a keep would cost more than reading them again

        var changed = payments.Single(p => p.CreatedAt == hour.AddMinutes(12));
        await RawAmountAsync(changed, 1_000_000);
        Assert.Equal(ExpectedCampaign(payments.Select(p => p == changed ? p with { AmountMinor = 1_000_000 } : p), campaign),
            (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
    }

    [Theory]
    [InlineData(1, false)] // seven payments read: a re-read costs no more than a keep
    [InlineData(2, true)] // eight: kept
    public async Task Slices_are_kept_from_eight_payments_read(int added, bool kept)
    {
        var store = NewStore();
        var (org, campaign, hour, payments) = await LoadOpenHourAsync(minute: 40, quiet: true); // six in the closed slices
        await PutRawAsync(Enumerable.Range(0, added).Select(i => NewPayment(org, hour.AddMinutes(2 + i), campaign: campaign)));
        await store.GetCampaignTotalsAsync(org, [campaign], default);
        Assert.Equal(kept, (await KeptBucketsAsync(org)).Contains(AggregateKeys.SlicesBucket(hour)));
    }

    [Fact]
    public async Task Refunds_settlements_late_creates_and_migration_copies_into_closed_slices_of_the_open_hour_are_counted()
    {
        var store = NewStore();
        var (org, campaign, hour, payments) = await LoadOpenHourAsync(minute: 40);
        await store.GetCampaignTotalsAsync(org, [campaign], default); // keeps the closed slices
        _clock.Advance(TimeSpan.FromMinutes(1));

        // Each write lands in a different closed slice (their hour has not ended): each path's slice mark makes it counted.
        var refunded = payments.Single(p => p.CreatedAt == hour.AddMinutes(12));
        var settled = payments.Single(p => p.Status == PaymentStatus.Pending);
        var changed = new List<PaymentTransaction>(payments.Where(p => p != refunded && p != settled))
        {
            refunded.Refund(700, refunded.CreatedAt.AddMinutes(1)),
            settled.Settle(settled.CreatedAt.AddMinutes(1)),
        };
        await store.UpdateAsync(changed[^2], null, default);
        await store.UpdateAsync(changed[^1], RecordFor(changed[^1], "settle-" + settled.TransactionId), default);
        var late = NewPayment(org, hour.AddMinutes(24).AddSeconds(59), amount: 1_111, campaign: campaign);
        await store.CreateAsync(late, RecordFor(late, "late-create"), default);
        var copied = NewPayment(org, hour.AddMinutes(31), amount: 2_222, campaign: campaign);
        Assert.True(await store.CopyAsync(copied, default));
        changed.AddRange([late, copied]);

        Assert.Equal(ExpectedCampaign(changed, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        Assert.Equal(Expected(changed, hour, _clock.GetUtcNow()), await store.GetHourlyTotalsAsync(org, hour, _clock.GetUtcNow(), default));
    }

    [Fact]
    public async Task A_write_into_the_open_hour_sent_after_that_hour_ended_is_counted_by_its_kept_slices()
    {
        var store = NewStore();
        var (org, campaign, hour, payments) = await LoadOpenHourAsync(minute: 59);
        await store.GetCampaignTotalsAsync(org, [campaign], default);
        // The hour has ended but not closed (Settle has not passed): its slices are still what readers keep.
        _clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(30));
        Assert.True(_clock.GetUtcNow() - store.Aggregates.Settle < hour.AddHours(1));
        var refunded = payments.Single(p => p.CreatedAt == hour.AddMinutes(5));
        var refund = refunded.Refund(900, _clock.GetUtcNow());
        await store.UpdateAsync(refund, null, default);
        var expected = payments.Select(p => p == refunded ? refund : p).ToList();
        // It marks its slice as well as its hour, and only that slice is read again: the hour's other slices, the later ones
        // included, still stand (a change behind the store's back in one of them is not seen).
        await RawAmountAsync(payments.Single(p => p.CreatedAt == hour.AddMinutes(12)), 4_000_000);
        Assert.Equal(ExpectedCampaign(expected, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
    }

    [Fact]
    public async Task A_write_after_the_hour_by_a_clock_a_minute_ahead_is_counted_by_slices_of_a_reader_a_minute_behind()
    {
        var reader = NewStore();
        var (org, campaign, hour, payments) = await LoadOpenHourAsync(minute: 59);
        await reader.GetCampaignTotalsAsync(org, [campaign], default); // keeps the slices up to :55

        // 200 s after the hour: the reader's clock, a minute behind, still reads the hour from its slices; the writer's, a
        // minute ahead, is 260 s past the hour, yet it must still mark the slice (its window allows for the skew).
        var trueNow = hour.AddHours(1).AddSeconds(200);
        _clock.Advance(trueNow.AddMinutes(-1) - _clock.GetUtcNow());
        var writerClock = new ShiftedClock();
        writerClock.Advance(trueNow.AddMinutes(1) - writerClock.GetUtcNow());
        var options = Options.Create(fixture.Options);
        var writer = new DynamoDbPaymentTransactionStore(fixture.Client, new DynamoDbCaller(null, options), options, time: writerClock);
        var refunded = payments.Single(p => p.CreatedAt == hour.AddMinutes(33));
        var refund = refunded.Refund(900, writerClock.GetUtcNow());
        await writer.UpdateAsync(refund, null, default);

        Assert.True(_clock.GetUtcNow() - reader.Aggregates.Settle < hour.AddHours(1));
        Assert.Equal(ExpectedCampaign(payments.Select(p => p == refunded ? refund : p), campaign), (await reader.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
    }

    [Fact]
    public async Task An_hour_that_closes_is_summed_from_its_slices_and_writes_after_its_end_are_counted()
    {
        var store = NewStore();
        var (org, campaign, hour, payments) = await LoadOpenHourAsync(minute: 59);
        await store.GetCampaignTotalsAsync(org, [campaign], default); // keeps the slices up to :55
        var hidden = payments.Single(p => p.CreatedAt == hour.AddMinutes(12));
        await RawAmountAsync(hidden, 7_000_000); // behind the store's back: seen only where slice :10 is read again

        // 30 s after the hour's end a refund marks its hour and its slice; once the hour has closed it is summed from its
        // slices, only the refund's read again: the hour's mark was written while writes still marked their slices.
        _clock.Advance(TimeSpan.FromSeconds(90));
        var first = payments.Single(p => p.CreatedAt == hour.AddMinutes(5));
        var firstRefund = first.Refund(100, _clock.GetUtcNow());
        await store.UpdateAsync(firstRefund, null, default);
        _clock.Advance(store.Aggregates.Settle);
        var expected = payments.Select(p => p == first ? firstRefund : p).ToList();
        Assert.Equal(ExpectedCampaign(expected, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);

        // Later, a write into the kept hour marks its slice too: only that slice is read again (slice :10 still stands).
        _clock.Advance(TimeSpan.FromMinutes(3));
        var second = payments.Single(p => p.CreatedAt == hour.AddMinutes(33));
        var secondRefund = second.Refund(200, _clock.GetUtcNow());
        await store.UpdateAsync(secondRefund, null, default);
        expected = expected.Select(p => p == second ? secondRefund : p).ToList();
        Assert.Equal(ExpectedCampaign(expected, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
    }

    [Fact]
    public async Task An_hour_summed_from_its_slices_is_kept_and_stands_after_the_marks_of_its_close()
    {
        var store = NewStore();
        var (org, campaign, hour, payments) = await LoadOpenHourAsync(minute: 59);
        await store.GetCampaignTotalsAsync(org, [campaign], default);

        // A settlement 30 s after the hour's end marks the hour and its slice; the read that closes the hour sums its slices.
        _clock.Advance(TimeSpan.FromSeconds(90));
        var pending = payments.Single(p => p.Status == PaymentStatus.Pending);
        var settled = pending.Settle(_clock.GetUtcNow());
        await store.UpdateAsync(settled, RecordFor(settled, "settle-" + pending.TransactionId), default);
        _clock.Advance(store.Aggregates.Settle);
        var expected = payments.Select(p => p == pending ? settled : p).ToList();
        Assert.Equal(ExpectedCampaign(expected, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);

        // Hours later the hour kept then still stands against that mark: its payments are not read again (a change behind
        // the store's back is not seen), or every busy hour would be read whole once its slices are gone.
        _clock.Advance(TimeSpan.FromHours(3));
        await RawAmountAsync(payments.Single(p => p.CreatedAt == hour.AddMinutes(12)), 9_000_000);
        Assert.Equal(ExpectedCampaign(expected, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
    }

    [Theory]
    [InlineData(263)] // minutes after the hour closed
    [InlineData(3 * 3600)] // hours later, the hour kept whole long since
    public async Task A_write_into_a_busy_closed_hour_reads_again_only_its_slice(int secondsAfterTheHour)
    {
        var store = NewStore();
        var (org, campaign, hour, payments) = await LoadOpenHourAsync(minute: 59);
        await store.GetCampaignTotalsAsync(org, [campaign], default); // keeps the slices up to :50
        _clock.Advance(hour.AddHours(1) + store.Aggregates.Settle + TimeSpan.FromSeconds(1) - _clock.GetUtcNow());
        Assert.Equal(ExpectedCampaign(payments, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        Assert.Contains(AggregateKeys.HourBucket(hour), await KeptBucketsAsync(org)); // the hour closed, summed from its slices
        var hidden = payments.Single(p => p.CreatedAt == hour.AddMinutes(12));
        await RawAmountAsync(hidden, 7_000_000); // behind the store's back: seen only if slice :10 (or the hour) is read again

        // A refund into slice :30 marks its hour and its slice: the kept hour does not stand, its slices other than :30 do
        // (for a telethon, a re-read of 5 minutes of payments, not of the hour).
        _clock.Advance(hour.AddHours(1).AddSeconds(secondsAfterTheHour) - _clock.GetUtcNow());
        var refunded = payments.Single(p => p.CreatedAt == hour.AddMinutes(33));
        var refund = refunded.Refund(300, _clock.GetUtcNow());
        await store.UpdateAsync(refund, null, default);
        var expected = payments.Select(p => p == refunded ? refund : p).ToList();
        Assert.Equal(ExpectedCampaign(expected, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        var now = _clock.GetUtcNow();
        Assert.Equal(Expected(expected, hour, now), await store.GetHourlyTotalsAsync(org, hour, now, default));

        // Once the mark is older than Settle, the hour is kept again (read after the mark) and stands; the refund stays counted.
        _clock.Advance(store.Aggregates.Settle + TimeSpan.FromSeconds(1));
        Assert.Equal(ExpectedCampaign(expected, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        var keptAt = (await GetAggregateAsync(org, AggregateKeys.HourBucket(hour)))[AggregateKeys.ComputedAt].S;
        Assert.True(string.CompareOrdinal(keptAt, PaymentItemKeys.Timestamp(refund.UpdatedAt)) > 0, keptAt);
        await RawAmountAsync(payments.Single(p => p.CreatedAt == hour.AddMinutes(36)), 8_000_000);
        Assert.Equal(ExpectedCampaign(expected, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
    }

    [Fact]
    public async Task A_read_of_slices_cut_off_midway_keeps_the_slices_it_completed_and_the_next_read_goes_on_from_there()
    {
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        using var cutOffs = new CutOffReads(meters);
        var (store, queries) = CuttingStore(metrics: new StoreMetrics(meters, TimeProvider.System));
        store.Aggregates.PageItems = 10; // about a slice a page
        var (org, _, hour, payments) = await LoadOpenHourAsync(minute: 40); // slices :00 to :30 closed, none kept yet

        // A first read of the closed slices (one query) is cut off after three pages; operators see it in the metrics.
        await AssertACutOffReadGoesOnFromTheSlicesItCompletedAsync(store, queries, org, hour, hour.AddMinutes(35), payments);
        Assert.Equal(["some"], cutOffs.Progress);
    }

    /// <summary>The cut-off reads that the metrics of one meter factory count, with their <c>progress</c> tag.</summary>
    private sealed class CutOffReads : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _progress = new();

        public CutOffReads(IMeterFactory meters)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Name == "prolifeprosper.store.aggregates.reads_cut_off") listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                foreach (var tag in tags) if (tag.Key == "progress") _progress.Enqueue((string)tag.Value!);
            });
            _listener.Start();
        }

        public IReadOnlyList<string> Progress => [.. _progress];

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public async Task A_first_read_of_closed_hours_cut_off_midway_keeps_the_hours_it_completed()
    {
        var (store, queries) = CuttingStore();
        store.Aggregates.PageItems = 2;
        var (org, _, payments) = await LoadHistoryAsync(days: 1); // a payment every two hours, none kept yet
        var (from, to) = (Hour(-24), Hour(-3));

        // Cut off after two pages (four payments, the last at hour -18): hours -24 to -19 are complete, and the two with
        // captured payments (-24 and -22) are kept.
        queries.AnsweredPages = 2;
        await CutOffAsync(store, org, from, to);
        var hours = (await KeptBucketsAsync(org)).Where(b => b.StartsWith("H#", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([AggregateKeys.HourBucket(Hour(-24)), AggregateKeys.HourBucket(Hour(-22))], hours);

        // The next read does not read them again (a change behind the store's back is not seen) and reads the rest.
        queries.AnsweredPages = int.MaxValue;
        await RawAmountAsync(payments[0], 1_000_000);
        await RawAmountAsync(payments[4], 2_000_000);
        var expected = payments.Select(p => p == payments[4] ? p with { AmountMinor = 2_000_000 } : p);
        Assert.Equal(Expected(expected, from, to), (await store.Aggregates.ReadAsync(org, from, to, hourly: true, default)).Hourly(from, to));
    }

    [Fact]
    public async Task A_busy_hour_never_kept_and_cut_off_midway_keeps_its_completed_slices_and_is_read_on_through_them()
    {
        var (store, queries) = CuttingStore();
        store.Aggregates.PageItems = 10; // about a slice a page
        var (org, _, hour, payments) = await LoadOpenHourAsync(minute: 59);
        _clock.Advance(TimeSpan.FromHours(4)); // never read while open or at its close: read whole, as a history's hours are

        // Its first read is cut off after three pages; it leaves an hour item without totals (which does not stand), and the
        // next read takes the hour through its slices.
        await AssertACutOffReadGoesOnFromTheSlicesItCompletedAsync(store, queries, org, hour, hour.AddHours(1), payments,
            async () => Assert.Contains(AggregateKeys.HourBucket(hour), await KeptBucketsAsync(org)));
    }

    [Fact]
    public async Task Reads_cut_off_at_random_pages_between_refunds_still_add_up_exactly()
    {
        // Every organization split in five: the shards' pages are cut off unevenly.
        var split = OrganizationShards.Fixed(new OrganizationShardMap(new Dictionary<Guid, OrganizationShardHistory>(),
            new OrganizationShardHistory([new(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero), 5)])));
        var (store, queries) = CuttingStore(split);
        store.Aggregates.PageItems = 5;
        var options = Options.Create(fixture.Options);
        var writer = new DynamoDbPaymentTransactionStore(fixture.Client, new DynamoDbCaller(null, options), options, time: _clock, organizationShards: split);
        var (org, _, hour, payments) = await LoadOpenHourAsync(minute: 59, organizationShards: 5);
        _clock.Advance(TimeSpan.FromHours(4)); // a busy hour never kept: read whole at first, by slices after
        var random = new Random(20261129);
        queries.HangWhen = () => random.NextDouble() < 0.1; // a tenth of the pages never answer: their read is cut off
        var current = payments.ToList();
        var refundable = current.Where(p => p.Status == PaymentStatus.Succeeded).ToList();
        var cutOff = 0;
        for (var round = 0; round < 6; round++)
        {
            // A refund (marked) into a random slice, then reads that are cut off until one gets through: whatever the
            // cut-off reads kept along the way, the answer is exact.
            var victim = refundable[random.Next(refundable.Count)];
            refundable.Remove(victim);
            var refunded = victim.Refund(1 + round, _clock.GetUtcNow());
            await writer.UpdateAsync(refunded, null, default);
            current[current.IndexOf(victim)] = refunded;
            PaymentTotals? read = null;
            for (var attempt = 0; read is null; attempt++)
            {
                Assert.True(attempt < 60, "no read got through");
                using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(600));
                try
                {
                    read = await store.Aggregates.ReadAsync(org, hour, hour.AddHours(1), hourly: true, deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    cutOff++;
                }
            }
            Assert.Equal(Expected(current, hour, hour.AddHours(1)), read.Hourly(hour, hour.AddHours(1)));
            _clock.Advance(TimeSpan.FromSeconds(random.Next(1, 200)));
        }
        Assert.True(cutOff >= 3, $"only {cutOff} reads were cut off: the faults proved little");
    }

    /// <summary>
    /// A read of [hour, to) cut off by its deadline after three pages of ten payments (slices :00, :05 and :10 complete) keeps
    /// those slices; the next read goes on from :15: a change behind the store's back in a completed slice is not seen, one
    /// in a slice it had not finished is.
    /// </summary>
    private async Task AssertACutOffReadGoesOnFromTheSlicesItCompletedAsync(DynamoDbPaymentTransactionStore store, CutOffQueries queries, Guid org,
        DateTimeOffset hour, DateTimeOffset to, List<PaymentTransaction> payments, Func<Task>? afterTheCut = null)
    {
        queries.AnsweredPages = 3;
        await CutOffAsync(store, org, hour, to);
        var kept = await GetAggregateAsync(org, AggregateKeys.SlicesBucket(hour));
        Assert.Equal(["s00", "s05", "s10"], kept.Keys.Where(k => k.StartsWith('s')).Order(StringComparer.Ordinal));
        if (afterTheCut is not null) await afterTheCut();

        queries.AnsweredPages = int.MaxValue;
        await RawAmountAsync(payments.Single(p => p.CreatedAt == hour.AddMinutes(12)), 1_000_000);
        var later = payments.Single(p => p.CreatedAt == hour.AddMinutes(33));
        await RawAmountAsync(later, 2_000_000);
        var expected = payments.Select(p => p == later ? p with { AmountMinor = 2_000_000 } : p);
        Assert.Equal(Expected(expected, hour, to), (await store.Aggregates.ReadAsync(org, hour, to, hourly: true, default)).Hourly(hour, to));
    }

    /// <summary>A read of [from, to) that the cut-off handler stops: its 3 s deadline ends it.</summary>
    private static async Task CutOffAsync(DynamoDbPaymentTransactionStore store, Guid org, DateTimeOffset from, DateTimeOffset to)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.Aggregates.ReadAsync(org, from, to, hourly: true, deadline.Token));
    }

    [Fact]
    public async Task An_hour_just_closed_whose_slice_read_is_cut_off_is_read_on_through_its_slices_once_it_is_older()
    {
        var (store, queries) = CuttingStore();
        store.Aggregates.PageItems = 10; // about a slice a page
        var (org, _, hour, payments) = await LoadOpenHourAsync(minute: 59); // no slice kept while it was open
        _clock.Advance(hour.AddHours(1) + store.Aggregates.Settle + TimeSpan.FromSeconds(1) - _clock.GetUtcNow()); // just closed

        // Its close is read through its slices and cut off; it leaves an hour item without totals, so that two hours later
        // (no longer the hour just closed) it is still read through its slices, from :15 on, and not whole.
        await AssertACutOffReadGoesOnFromTheSlicesItCompletedAsync(store, queries, org, hour, hour.AddHours(1), payments, async () =>
        {
            Assert.Contains(AggregateKeys.HourBucket(hour), await KeptBucketsAsync(org));
            _clock.Advance(TimeSpan.FromHours(2));
        });
    }

    [Theory]
    [InlineData(3, new[] { "s00", "s05" })] // every shard three pages in: into slice :10
    [InlineData(2, new[] { "s00" })] // one shard behind the others, into slice :05: only what it has read past
    [InlineData(0, new string[0])] // one shard not answered at all: nothing is complete
    public async Task A_cut_off_read_of_an_organization_split_over_many_shards_keeps_what_every_shard_has_read_past(int pagesOfTheLastShard, string[] expectedKept)
    {
        const int shards = 12; // more than a read's other parallel work: every shard must be read at once
        var org = Guid.CreateVersion7();
        var (store, queries) = CuttingStore(OrganizationShards.Fixed(new OrganizationShardMap(
            new Dictionary<Guid, OrganizationShardHistory> { [org] = new([new(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero), shards)]) }, OrganizationShardHistory.Single)));
        store.Aggregates.PageItems = 2;
        var hour = Hour(1);
        _clock.Advance(hour.AddMinutes(40) - _clock.GetUtcNow()); // slices :00 to :30 closed
        // Two payments of every shard in every slice: three pages of each shard reach into slice :10.
        var payments = Enumerable.Range(0, 7).SelectMany(slice => Enumerable.Range(0, shards).SelectMany(shard => Enumerable.Range(0, 2).Select(k =>
            PaymentOfShard(org, hour + AggregateKeys.SliceLength * slice + TimeSpan.FromSeconds(10 * shard + k), shard, shards)))).ToList();
        await PutRawAsync(payments, shards);

        var last = PaymentItemKeys.PartitionOf(org, shards - 1);
        queries.AnsweredPagesOf = partition => partition == last ? pagesOfTheLastShard : 3;
        await CutOffAsync(store, org, hour, hour.AddMinutes(35));
        var kept = await GetAggregateAsync(org, AggregateKeys.SlicesBucket(hour));
        Assert.Equal(expectedKept, kept.Keys.Where(k => k.StartsWith('s')).Order(StringComparer.Ordinal));

        queries.AnsweredPagesOf = _ => int.MaxValue;
        Assert.Equal(Expected(payments, hour, hour.AddMinutes(35)), (await store.Aggregates.ReadAsync(org, hour, hour.AddMinutes(35), hourly: true, default)).Hourly(hour, hour.AddMinutes(35)));
    }

    private static PaymentTransaction PaymentOfShard(Guid org, DateTimeOffset createdAt, int shard, int shards)
    {
        while (true)
        {
            var payment = NewPayment(org, createdAt, amount: 100 + shard);
            if (PaymentItemKeys.OrganizationShardOf(payment.TransactionId, shards) == shard) return payment;
        }
    }

    [Fact]
    public async Task A_marked_write_that_lands_after_a_reader_kept_its_slice_again_is_still_counted()
    {
        var store = NewStore();
        var (org, campaign, hour, payments) = await LoadOpenHourAsync(minute: 40);
        await store.GetCampaignTotalsAsync(org, [campaign], default);
        var victim = payments.Single(p => p.CreatedAt == hour.AddMinutes(12));

        await AssertAStalledMarkedWriteIsCountedAsync(store, org, campaign, payments, victim); // its slice this time
    }

    [Fact]
    public async Task Slices_kept_under_another_generation_are_read_again()
    {
        var store = NewStore();
        var (org, campaign, hour, payments) = await LoadOpenHourAsync(minute: 40);
        await store.GetCampaignTotalsAsync(org, [campaign], default);
        var victim = payments.Single(p => p.CreatedAt == hour.AddMinutes(12));
        await RawAmountAsync(victim, 8_000_000); // behind the store's back: the kept slice does not show it
        Assert.Equal(ExpectedCampaign(payments, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);

        var options = Options.Create(new DynamoDbOptions { TablePrefix = fixture.Options.TablePrefix, WriteShards = fixture.Options.WriteShards, AggregatesGeneration = 2 });
        var raised = new DynamoDbPaymentTransactionStore(fixture.Client, new DynamoDbCaller(null, options), options, time: _clock);
        var after = payments.Select(p => p == victim ? p with { AmountMinor = 8_000_000 } : p);
        Assert.Equal(ExpectedCampaign(after, campaign), (await raised.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
    }

    /// <summary>
    /// Moves the clock to <paramref name="minute"/> past the next hour and writes payments of that hour (raw, no marks) at
    /// minutes 1 (pending), 5, 12, 20 (failed), 33, 36 and 39, most to one campaign, and one ten minutes before the hour;
    /// unless <paramref name="quiet"/>, eight more in every slice to another campaign, so that each slice is worth keeping.
    /// </summary>
    private async Task<(Guid Org, Guid Campaign, DateTimeOffset Hour, List<PaymentTransaction> Payments)> LoadOpenHourAsync(int minute, bool quiet = false,
        int organizationShards = 1)
    {
        var hour = Hour(1);
        _clock.Advance(hour.AddMinutes(minute) - _clock.GetUtcNow());
        var org = Guid.CreateVersion7();
        var campaign = Guid.CreateVersion7();
        var payments = new[] { 1, 5, 12, 20, 33, 36, 39 }.Select(m => NewPayment(org, hour.AddMinutes(m), amount: 1_000 + m, campaign: campaign,
            status: m == 1 ? PaymentStatus.Pending : m == 20 ? PaymentStatus.Failed : PaymentStatus.Succeeded)).ToList();
        payments.Add(NewPayment(org, hour.AddMinutes(7), amount: 777, currency: "EUR"));
        payments.Add(NewPayment(org, hour.AddMinutes(-10), amount: 555, campaign: campaign)); // in the hour before
        var others = Guid.CreateVersion7();
        if (!quiet)
            payments.AddRange(Enumerable.Range(0, 12).SelectMany(slice => Enumerable.Range(0, 8).Select(k =>
                NewPayment(org, hour + AggregateKeys.SliceLength * slice + TimeSpan.FromSeconds(150 + k) + TimeSpan.FromMilliseconds(500), amount: 10 + k, campaign: others))));
        await PutRawAsync(payments, organizationShards);
        return (org, campaign, hour, payments);
    }

    /// <summary>
    /// A refund marks the victim's hour (or slice), then stalls before its write is sent; a reader keeps it meanwhile; then it
    /// lands. The next read comes once the mark is older than Settle, but the totals were kept only 3 s after it: kept totals
    /// are judged by when they were read, so these do not stand and are read again. Kept again long after the mark, they
    /// stand from then on (a change behind the store's back is not seen).
    /// </summary>
    private async Task AssertAStalledMarkedWriteIsCountedAsync(DynamoDbPaymentTransactionStore store, Guid org, Guid campaign,
        List<PaymentTransaction> payments, PaymentTransaction victim)
    {
        await store.Aggregates.MarkAsync([(org, victim.CreatedAt)], default);
        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(ExpectedCampaign(payments, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        await RawAmountAsync(victim, victim.AmountMinor + 5_000);
        var after = payments.Select(p => p == victim ? p with { AmountMinor = p.AmountMinor + 5_000 } : p).ToList();

        _clock.Advance(store.Aggregates.Settle - TimeSpan.FromSeconds(2));
        Assert.Equal(ExpectedCampaign(after, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
        await RawAmountAsync(victim, 1);
        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(ExpectedCampaign(after, campaign), (await store.GetCampaignTotalsAsync(org, [campaign], default))[campaign]);
    }

    // ----- a history written like the bulk loader writes it: item by item, no marks -----

    private async Task<(Guid Org, Guid Campaign, List<PaymentTransaction> Payments)> LoadHistoryAsync(int days)
    {
        var org = Guid.CreateVersion7();
        var campaign = Guid.CreateVersion7();
        var statuses = new[] { PaymentStatus.Succeeded, PaymentStatus.Succeeded, PaymentStatus.Failed, PaymentStatus.Pending, PaymentStatus.Succeeded };
        var payments = Enumerable.Range(0, days * 12).Select(i => NewPayment(org, Hour(-days * 24 + 2 * i).AddMinutes(i % 60),
            amount: 1_000 + i, status: statuses[i % statuses.Length], currency: i % 7 == 0 ? "EUR" : "USD", campaign: i % 3 == 0 ? Guid.CreateVersion7() : campaign)).ToList();
        await PutRawAsync(payments);
        return (org, campaign, payments);
    }

    private async Task PutRawAsync(IEnumerable<PaymentTransaction> payments, int organizationShards = 1)
    {
        foreach (var payment in payments)
            await fixture.Client.PutItemAsync(fixture.Options.TransactionsTableName, PaymentItemMapper.ToItem(payment, fixture.Options.WriteShards, organizationShards));
    }

    private Task RawAmountAsync(PaymentTransaction payment, long amount) => fixture.Client.UpdateItemAsync(new UpdateItemRequest
    {
        TableName = fixture.Options.TransactionsTableName,
        Key = PaymentItemMapper.KeyOf(payment, 1),
        UpdateExpression = "SET amountMinor = :amount",
        ExpressionAttributeValues = new() { [":amount"] = PaymentItemMapper.N(amount) },
    });

    private async Task<Dictionary<string, AttributeValue>> GetAggregateAsync(Guid org, string bucket) =>
        (await fixture.Client.GetItemAsync(fixture.Options.AggregatesTableName, AggregateKeys.KeyOf(org, bucket))).Item ?? [];

    /// <summary>A store on this clock whose reads of payments can be cut off (<see cref="CutOffQueries"/>).</summary>
    private (DynamoDbPaymentTransactionStore Store, CutOffQueries Queries) CuttingStore(OrganizationShards? organizationShards = null, StoreMetrics? metrics = null)
    {
        var queries = new CutOffQueries(fixture.Options.TransactionsTableName) { InnerHandler = new SocketsHttpHandler() };
        var client = ProLifeProsper.Testing.Faults.HandlerHttpClientFactory.DynamoDbClient(fixture.Client.Config.ServiceURL, queries);
        var options = Options.Create(fixture.Options);
        return (new DynamoDbPaymentTransactionStore(client, new DynamoDbCaller(metrics, options), options, time: _clock, organizationShards: organizationShards), queries);
    }

    /// <summary>
    /// Answers the first <see cref="AnsweredPages"/> queries of the payments table, and of each partition key the first
    /// <see cref="AnsweredPagesOf"/> it; the ones after hang until their caller gives up (a deadline).
    /// </summary>
    private sealed class CutOffQueries(string transactionsTable) : DelegatingHandler
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _perPartition = new();
        private int _answered;

        public int AnsweredPages { get; set; } = int.MaxValue;

        public Func<string, int> AnsweredPagesOf { get; set; } = _ => int.MaxValue;

        /// <summary>Asked for each page (one at a time): true hangs it.</summary>
        public Func<bool> HangWhen { get; set; } = () => false;

        private readonly Lock _dice = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Headers.TryGetValues("X-Amz-Target", out var target) && target.Single().EndsWith(".Query", StringComparison.Ordinal)
                && await request.Content!.ReadAsStringAsync(cancellationToken) is var body && body.Contains(transactionsTable, StringComparison.Ordinal))
            {
                var partition = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("ExpressionAttributeValues").GetProperty(":pk").GetProperty("S").GetString()!;
                bool hang;
                lock (_dice) hang = HangWhen();
                if (Interlocked.Increment(ref _answered) > AnsweredPages | _perPartition.AddOrUpdate(partition, 1, (_, n) => n + 1) > AnsweredPagesOf(partition) | hang)
                    await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            return await base.SendAsync(request, cancellationToken);
        }
    }

    private async Task<List<string>> KeptBucketsAsync(Guid org) =>
        (await fixture.Client.QueryAsync(new QueryRequest
        {
            TableName = fixture.Options.AggregatesTableName,
            KeyConditionExpression = "organizationId = :org",
            ExpressionAttributeValues = new() { [":org"] = PaymentItemMapper.S(org) },
        })).Items.Select(i => i[AggregateKeys.Bucket].S).ToList();

    private DateTimeOffset Hour(int hoursFromNow) => PaymentItemKeys.FloorHour(_clock.GetUtcNow()).AddHours(hoursFromNow);

    private static List<HourlyPaymentTotal> Expected(IEnumerable<PaymentTransaction> payments, DateTimeOffset from, DateTimeOffset to) => payments
        .Where(p => p.Status.IsCaptured() && p.CreatedAt >= from && p.CreatedAt < to)
        .GroupBy(p => (Hour: PaymentItemKeys.FloorHour(p.CreatedAt), p.Currency))
        .Select(g => new HourlyPaymentTotal(g.Key.Hour, g.Key.Currency, g.Count(), g.Sum(p => p.AmountMinor), g.Sum(p => p.RefundedAmountMinor)))
        .OrderBy(t => t.Hour).ThenBy(t => t.Currency, StringComparer.Ordinal).ToList();

    private static CampaignTotals ExpectedCampaign(IEnumerable<PaymentTransaction> payments, Guid campaign)
    {
        var counted = payments.Where(p => p.CampaignId == campaign && p.Status is PaymentStatus.Succeeded or PaymentStatus.PartiallyRefunded).ToList();
        return new CampaignTotals(counted.Sum(p => p.AmountMinor - p.RefundedAmountMinor), counted.Count);
    }
}
