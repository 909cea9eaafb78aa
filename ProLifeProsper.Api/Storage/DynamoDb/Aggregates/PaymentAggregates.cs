using System.Collections.Concurrent;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;

namespace ProLifeProsper.Api.Storage.DynamoDb.Aggregates;

/// <summary>
/// Campaign progress and hourly analytics without reading an organization's history on every request, and without
/// transactions, Streams or counters (dynalite has none of them; a counter bumped by a retry counts twice).
/// <para>
/// A total is never incremented. The totals of a closed UTC hour are <em>read</em> from its payments once (strongly
/// consistent) and kept (<c>H#</c> item), and a closed day's totals are the sum of its 24 hours (<c>D#</c> item). A range is
/// then the days' totals, the hours' totals at its edges, and the payments of the hours not closed yet (read live). So a
/// retry, a replayed create or a copy that writes a payment again changes nothing: a payment is counted by what it is,
/// once, whenever its hour is read.
/// </para>
/// <para>
/// What keeps kept totals true is <em>marks</em>. An hour counts as closed once <see cref="Settle"/> has passed since its
/// end: every create sent before the hour ended (by its writer's clock) has landed by then. Any write that may land in an
/// hour after that — a refund, a settlement, a create finished late, a copy by the migration (in either direction
/// DynamoDB's items are only written here) — first marks its hour (<see cref="MarkAsync"/>: the time it is about to be
/// sent), and lands within <see cref="Settle"/> of its mark. A kept total read at time <c>c</c> stands only while every mark
/// of its hour is at most <c>c − Settle</c>; otherwise that hour is read again. Marks cost one small write per hour and
/// organization every few seconds at most (reused for <see cref="MarkReuse"/>), and creates in their own hour none.
/// </para>
/// <para>
/// Kept totals are a cache of a pure function of the payments: they are written unconditionally and may be lost or
/// overwritten by an older one; each stands or falls by its own read time against the marks.
/// </para>
/// </summary>
/// <param name="shardsDuring">How many of the organization's partition keys hold payments created in [from, to).</param>
public sealed class PaymentAggregates(IAmazonDynamoDB dynamo, DynamoDbCaller caller, DynamoDbOptions options,
    Func<Guid, DateTimeOffset, DateTimeOffset, CancellationToken, ValueTask<int>> shardsDuring, TimeProvider time, ILogger? logger = null)
{
    /// <summary>The most two replicas' clocks may differ from the true time (as the shard map assumes).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(1);

    /// <summary>A mark stands for the writes of its hour sent within this time after it, so a busy hour is marked once per interval.</summary>
    public static readonly TimeSpan MarkReuse = TimeSpan.FromSeconds(5);

    private const int Parallelism = 8;

    private readonly ConcurrentDictionary<MarkedPeriod, DateTimeOffset> _marked = new();

    private string Table => options.AggregatesTableName;

    /// <summary>
    /// How long after a mark (or an hour's end) a write sent under it can still land: two write time-outs and a margin (every
    /// DynamoDB write leaves within <see cref="DynamoDbOptions.WriteTimeout"/> and lands within it of leaving, the bound the
    /// dynamo-only fence uses), the clock skew of the writer's and the reader's clock, and the reuse of a mark.
    /// </summary>
    public TimeSpan Settle => SettleFor(options.WriteTimeout);

    /// <summary><see cref="Settle"/> for a write time-out (the capacity plan uses the default one).</summary>
    public static TimeSpan SettleFor(TimeSpan writeTimeout) => writeTimeout * 2 + TimeSpan.FromSeconds(2) + MaxClockSkew * 2 + MarkReuse;

    /// <summary>
    /// Marks the periods of payments about to be written that have ended: call it before the write is sent, and do not send
    /// the write if it fails. A payment's slice once that has ended (kept slices stand against it), and its hour once that
    /// has ended (kept hours, days and months stand against it). Writes in their own slice (almost every create) need no
    /// mark and cost nothing here.
    /// </summary>
    public async Task MarkAsync(IEnumerable<(Guid OrganizationId, DateTimeOffset CreatedAt)> writes, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var due = writes.SelectMany(w => PeriodsToMark(w.OrganizationId, w.CreatedAt, now))
            .Distinct()
            .Where(p => !_marked.TryGetValue(p, out var at) || now - at >= MarkReuse || now < at)
            .ToList();
        if (due.Count == 0) return;
        // An hour's mark goes to its day (per hour) and to its month (per day), so that a month's kept totals can be judged
        // from one small item; a slice's to its hour's slice marks. All are stored before the write is sent.
        var marks = due.SelectMany(p => p.IsHour
            ? new[]
            {
                (Period: p, Bucket: AggregateKeys.MarksBucket(p.Start), Attribute: AggregateKeys.MarkAttribute(p.Start)),
                (Period: p, Bucket: AggregateKeys.MonthMarksBucket(AggregateKeys.FloorMonth(p.Start)), Attribute: AggregateKeys.DayMarkAttribute(p.Start)),
            }
            : [(Period: p, Bucket: AggregateKeys.SliceMarksBucket(p.Start), Attribute: AggregateKeys.SliceMarkAttribute(p.Start))]);
        await Parallel.ForEachAsync(marks, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (mark, ct) =>
        {
            try
            {
                await caller.CallAsync("mark_aggregate", Table, c => dynamo.UpdateItemAsync(new UpdateItemRequest
                {
                    TableName = Table,
                    Key = AggregateKeys.KeyOf(mark.Period.OrganizationId, mark.Bucket),
                    UpdateExpression = "SET #mark = :now",
                    // Never moves back: a slow mark from a clock behind must not hide a later one.
                    ConditionExpression = "attribute_not_exists(#mark) OR #mark < :now",
                    ExpressionAttributeNames = new() { ["#mark"] = mark.Attribute },
                    ExpressionAttributeValues = new() { [":now"] = new(PaymentItemKeys.Timestamp(now)) },
                    ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
                }, c), ct);
            }
            catch (ConditionalCheckFailedException)
            {
                // A later mark is there already: it stands for this write too.
            }
        });
        foreach (var period in due) _marked[period] = now;
        if (_marked.Count > 10_000)
            foreach (var (key, at) in _marked) if (now - at >= MarkReuse) _marked.TryRemove(key, out _);
    }

    /// <summary>An hour or a slice of an organization's payments that a write marks.</summary>
    private readonly record struct MarkedPeriod(Guid OrganizationId, DateTimeOffset Start, bool IsHour);

    private static IEnumerable<MarkedPeriod> PeriodsToMark(Guid organizationId, DateTimeOffset createdAt, DateTimeOffset now)
    {
        var hour = PaymentItemKeys.FloorHour(createdAt);
        if (now >= hour.AddHours(1)) yield return new(organizationId, hour, IsHour: true);
        // Its slice too, at any age: readers keep every busy hour's slices, so that a write into a kept hour costs a re-read
        // of its slice, not of the hour.
        var slice = AggregateKeys.FloorSlice(createdAt);
        if (now >= slice + AggregateKeys.SliceLength) yield return new(organizationId, slice, IsHour: false);
    }

    /// <summary>
    /// The totals of the organization's payments created in [<paramref name="from"/>, <paramref name="to"/>) (null: no end).
    /// With <paramref name="hourly"/> false only campaign totals are wanted, and kept months (campaign totals only) answer
    /// for whole months; hourly totals come from days and hours.
    /// </summary>
    public async Task<PaymentTotals> ReadAsync(Guid organizationId, DateTimeOffset from, DateTimeOffset? to, bool hourly, CancellationToken cancellationToken)
    {
        if (to <= from) return new PaymentTotals();
        var now = time.GetUtcNow();
        var closedBefore = PaymentItemKeys.FloorHour(now - Settle); // hours that end by now − Settle
        var first = CeilHour(from);
        var last = to is { } end && PaymentItemKeys.FloorHour(end) < closedBefore ? PaymentItemKeys.FloorHour(end) : closedBefore;
        if (last <= first)
        {
            // No closed hour in the range: unless it reaches into the open hour from before its start, it is read live.
            if (first != closedBefore || to is { } until && until <= first) return await ReadPaymentsAsync(organizationId, from, to, cancellationToken);
            var head = from < first ? ReadPaymentsAsync(organizationId, from, first, cancellationToken) : Task.FromResult(new PaymentTotals());
            var open = ReadOpenHourAsync(organizationId, first, to, now, cancellationToken);
            return Sum(await Task.WhenAll(head, open));
        }

        var parts = new List<Task<PaymentTotals>> { ReadClosedHoursAsync(organizationId, first, last, closedBefore, hourly, cancellationToken) };
        if (from < first) parts.Add(ReadPaymentsAsync(organizationId, from, first, cancellationToken));
        if (to is null || last < to)
            parts.Add(last == closedBefore ? ReadOpenHourAsync(organizationId, last, to, now, cancellationToken) : ReadPaymentsAsync(organizationId, last, to, cancellationToken));
        return Sum(await Task.WhenAll(parts));
    }

    private static PaymentTotals Sum(IEnumerable<PaymentTotals> parts)
    {
        var totals = new PaymentTotals();
        foreach (var part in parts) totals.Add(part);
        return totals;
    }

    /// <summary>When the organization's oldest payment was created (null: it has none). One item per partition key.</summary>
    public async Task<DateTimeOffset?> OldestPaymentAsync(Guid organizationId, CancellationToken cancellationToken)
    {
        var shards = await shardsDuring(organizationId, DateTimeOffset.MinValue, DateTimeOffset.MaxValue, cancellationToken);
        var oldest = await Task.WhenAll(Enumerable.Range(0, shards).Select(async shard =>
        {
            var response = await caller.CallAsync("query_oldest_payment", options.TransactionsTableName, ct => dynamo.QueryAsync(new QueryRequest
            {
                TableName = options.TransactionsTableName,
                KeyConditionExpression = "#pk = :pk",
                ExpressionAttributeNames = new() { ["#pk"] = PaymentItemKeys.Partition },
                ExpressionAttributeValues = new() { [":pk"] = new(PaymentItemKeys.PartitionOf(organizationId, shard)) },
                ProjectionExpression = "#pk, " + PaymentItemKeys.SortKey,
                ScanIndexForward = true,
                Limit = 1,
                ConsistentRead = true,
                ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
            }, ct), cancellationToken);
            return response.Items is [var item, ..] ? PaymentItemKeys.ParseSortKey(item[PaymentItemKeys.SortKey].S).CreatedAt : (DateTimeOffset?)null;
        }));
        return oldest.Where(o => o is not null).Min();
    }

    // ----- the open hour: kept slices, read again where marks say so; live since the last closed one -----

    /// <summary>
    /// The totals of [<paramref name="hour"/>, <paramref name="to"/>) where <paramref name="hour"/> is the open hour (the first
    /// not closed): its slices that have closed (<see cref="Settle"/> since their end) from kept totals, as closed hours are,
    /// and only the payments since the last of them live. So a read of the open hour costs <see cref="Settle"/> and a slice
    /// of payments at most, not up to an hour more.
    /// </summary>
    private async Task<PaymentTotals> ReadOpenHourAsync(Guid organizationId, DateTimeOffset hour, DateTimeOffset? to, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var end = AggregateKeys.FloorSlice(now - Settle);
        if (to is { } until && AggregateKeys.FloorSlice(until) < end) end = AggregateKeys.FloorSlice(until);
        if (end <= hour) return await ReadPaymentsAsync(organizationId, hour, to, cancellationToken);

        var slices = ReadSlicesAsync(organizationId, hour, end, cancellationToken);
        return to == end ? await slices : Sum(await Task.WhenAll(slices, ReadPaymentsAsync(organizationId, end, to, cancellationToken)));
    }

    /// <summary>
    /// The totals of the slices of <paramref name="hour"/> in [hour, <paramref name="end"/>), each closed: kept ones that stand
    /// against their slice's mark, the others read from their payments and kept. Every write into a slice that has ended
    /// marks it (<see cref="PeriodsToMark"/>), at any age of its hour, so kept slices serve an open hour and a closed hour
    /// read again alike.
    /// </summary>
    private async Task<PaymentTotals> ReadSlicesAsync(Guid organizationId, DateTimeOffset hour, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var keptRead = GetBucketAsync(organizationId, AggregateKeys.SlicesBucket(hour), consistent: false, cancellationToken);
        // Marks are read strongly consistent: a mark missed here would let a stale total stand.
        var marksRead = GetBucketAsync(organizationId, AggregateKeys.SliceMarksBucket(hour), consistent: true, cancellationToken);
        await Task.WhenAll(keptRead, marksRead);
        var (kept, marks) = (keptRead.Result, marksRead.Result);

        var totals = new PaymentTotals();
        var unread = new List<DateTimeOffset>();
        for (var slice = hour; slice < end; slice += AggregateKeys.SliceLength)
        {
            if (kept is not null && kept.TryGetValue(AggregateKeys.SliceAttribute(slice), out var value) && value.M is { } item && OfThisGeneration(item)
                && item.TryGetValue(AggregateKeys.ComputedAt, out var at) && TimeOf(at) is { } readAt
                && Stands(readAt, marks, AggregateKeys.SliceMarkAttribute(slice))
                && TotalsOf(item, AggregateKeys.SlicesBucket(hour)) is { } sliceTotals)
                totals.Add(sliceTotals);
            else unread.Add(slice);
        }
        if (unread.Count == 0) return totals;

        // Only the slices that do not stand are read again, consecutive ones in one query, each run kept as it is read (or as
        // far as it got, when cut off): a mark costs a re-read of its slice, not of the hour, and an hour too big to read in
        // one request is read over several.
        var read = await InParallelAsync(Runs(unread, AggregateKeys.SliceLength), (run, ct) =>
        {
            var readAt = time.GetUtcNow(); // before the payments are read: the totals hold every write landed by then
            // Kept only when reading them again would cost more than the one read unit any query costs: a quiet
            // organization's few payments are read again rather than written (a keep costs a write unit or more).
            return ReadBySliceAsync(organizationId, run.From, run.To,
                slices => slices.Values.Sum(s => s.Payments) >= KeepSlicesFrom ? KeepSlicesAsync(organizationId, hour, slices, readAt) : Task.CompletedTask, ct);
        }, cancellationToken);
        foreach (var (_, slice) in read.SelectMany(slices => slices)) totals.Add(slice.Totals);
        return totals;
    }

    /// <summary>Slices are kept when a read of them finds at least this many payments: more than one read unit's worth (4 KB).</summary>
    private const int KeepSlicesFrom = 8;

    /// <summary>Keeps slices as hours are kept (<see cref="KeepAsync"/>): one update of the hour's slices item.</summary>
    private async Task KeepSlicesAsync(Guid organizationId, DateTimeOffset hour, IEnumerable<KeyValuePair<DateTimeOffset, (PaymentTotals Totals, int Payments)>> slices,
        DateTimeOffset readAt)
    {
        var names = new Dictionary<string, string>();
        var values = new Dictionary<string, AttributeValue>();
        foreach (var (slice, (sliceTotals, _)) in slices)
        {
            var value = new AttributeValue { M = SliceValue(sliceTotals, readAt, Generation) };
            // 12 slices and the item's key and names must fit one item; a larger slice is read every time.
            if (DynamoDbItemSize.Of(value.M) > (MaxItemBytes - 1024) / SlicesPerHour) continue;
            names[$"#s{names.Count}"] = AggregateKeys.SliceAttribute(slice);
            values[$":s{values.Count}"] = value;
        }
        if (names.Count == 0) return;
        // Slices written by another reader stay: only these are set (each stands or falls by its own read time).
        await KeepBestEffortAsync("slices of an hour", names.Count, ct => caller.CallAsync("keep_aggregate_slices", Table, c => dynamo.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = Table,
            Key = AggregateKeys.KeyOf(organizationId, AggregateKeys.SlicesBucket(hour)),
            UpdateExpression = "SET " + string.Join(", ", names.Keys.Select((name, i) => $"{name} = :s{i}")),
            ExpressionAttributeNames = names,
            ExpressionAttributeValues = values,
            ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
        }, c), ct));
    }

    /// <summary>
    /// Keeps the hours of slices read from their payments (whole hours with payments, as hours, and busy ones' slices too); an
    /// hour of which only some slices were read before the read was cut off keeps those slices (from 8 payments) and an hour
    /// item without totals, so that the next read takes that hour through its slices and goes on from where this one stopped.
    /// </summary>
    private async Task KeepHoursAsync(Guid organizationId, Dictionary<DateTimeOffset, (PaymentTotals Totals, int Payments)> read, DateTimeOffset readAt)
    {
        var keep = new List<Dictionary<string, AttributeValue>>();
        var slices = new List<Task>();
        foreach (var hour in read.GroupBy(s => PaymentItemKeys.FloorHour(s.Key)))
        {
            if (hour.Count() == SlicesPerHour)
            {
                var hourTotals = Sum(hour.Select(s => s.Value.Totals));
                if (!hourTotals.IsEmpty) keep.Add(HourItem(organizationId, hour.Key, hourTotals, readAt, Generation));
                // A busy hour keeps its slices as well: a refund into it later re-reads its slice, not the hour.
                if (hour.Sum(s => s.Value.Payments) >= KeepSlicesFrom * SlicesPerHour) slices.Add(KeepSlicesAsync(organizationId, hour.Key, hour, readAt));
            }
            else if (hour.Sum(s => s.Value.Payments) >= KeepSlicesFrom)
            {
                slices.Add(KeepSlicesAsync(organizationId, hour.Key, hour, readAt));
                keep.Add(UnfinishedHourItem(organizationId, hour.Key));
            }
        }
        await Task.WhenAll(slices.Append(KeepAsync(keep)));
    }

    /// <summary>An hour item without totals: it never stands, and sends the next read of its hour through its kept slices.</summary>
    private Dictionary<string, AttributeValue> UnfinishedHourItem(Guid organizationId, DateTimeOffset hour)
    {
        var item = AggregateKeys.KeyOf(organizationId, AggregateKeys.HourBucket(hour));
        item[AggregateKeys.Generation] = PaymentItemMapper.N(Generation);
        return item;
    }

    private static readonly int SlicesPerHour = (int)(TimeSpan.FromHours(1) / AggregateKeys.SliceLength);

    /// <summary>The totals of each hour of slices read whole.</summary>
    private static Dictionary<DateTimeOffset, PaymentTotals> HoursOf(Dictionary<DateTimeOffset, (PaymentTotals Totals, int Payments)> slices) =>
        slices.GroupBy(s => PaymentItemKeys.FloorHour(s.Key)).ToDictionary(h => h.Key, h => Sum(h.Select(s => s.Value.Totals)));

    // ----- closed hours: kept totals, read again where marks say so -----

    /// <param name="closedBefore">The first hour not closed, by the read's clock: the hour before it has just closed.</param>
    private async Task<PaymentTotals> ReadClosedHoursAsync(Guid organizationId, DateTimeOffset first, DateTimeOffset last, DateTimeOffset closedBefore, bool hourly,
        CancellationToken cancellationToken)
    {
        // Kept months hold campaign totals only: hourly totals come from days, so their months are not asked for.
        Task<List<Dictionary<string, AttributeValue>>> None() => Task.FromResult(new List<Dictionary<string, AttributeValue>>());
        var monthsRead = hourly ? None()
            : QueryBucketsAsync(organizationId, AggregateKeys.MonthBucket(first), AggregateKeys.MonthBucket(last.AddHours(-1)), consistent: false, cancellationToken);
        // Marks are read strongly consistent: a mark missed here would let a stale total stand.
        var marksRead = hourly ? None()
            : QueryBucketsAsync(organizationId, AggregateKeys.MonthMarksBucket(first), AggregateKeys.MonthMarksBucket(last.AddHours(-1)), consistent: true, cancellationToken);
        var kept = (await monthsRead).ToDictionary(m => AggregateKeys.MonthOf(m[AggregateKeys.Bucket].S));
        var marksOf = (await marksRead).ToDictionary(m => AggregateKeys.MonthOf(m[AggregateKeys.Bucket].S));

        var totals = new PaymentTotals();
        var open = new List<(DateTimeOffset Month, DateTimeOffset From, DateTimeOffset To)>(); // months whose days are needed
        for (var month = AggregateKeys.FloorMonth(first); month < last; month = month.AddMonths(1))
        {
            var whole = month >= first && month.AddMonths(1) <= last;
            if (whole && kept.TryGetValue(month, out var item) && MonthStands(item, marksOf.GetValueOrDefault(month)) && TotalsOf(item) is { } monthTotals)
                totals.Add(monthTotals);
            else open.Add((month, Max(month, first), Min(month.AddMonths(1), last)));
        }
        if (open.Count == 0) return totals;

        var days = (await InParallelAsync(open, (m, ct) => ReadDaysAsync(organizationId, m.From, m.To, closedBefore.AddHours(-1), ct), cancellationToken))
            .SelectMany(d => d).ToDictionary(d => d.Key, d => d.Value);
        foreach (var (_, (dayTotals, _)) in days) totals.Add(dayTotals);
        await KeepAsync(open.Where(m => m.From == m.Month && m.To == m.Month.AddMonths(1))
            .Select(m => MonthItem(organizationId, m.Month, days.Where(d => d.Key >= m.From && d.Key < m.To).ToList(), Generation)).ToList());
        return totals;
    }

    /// <summary>
    /// The totals of each day (or part of a day) in [from, to), within one month, each with the time its marks were read: a
    /// month kept from them stands while every mark of the day is older than that by <see cref="Settle"/>. Such a mark was
    /// seen by that read (a mark not stored yet is younger: its write, and so the mark, started within the write time-out of
    /// the read), and its write had landed before any hour was read again, or its hour stood against it.
    /// </summary>
    private async Task<SortedDictionary<DateTimeOffset, (PaymentTotals Totals, DateTimeOffset Covered)>> ReadDaysAsync(Guid organizationId,
        DateTimeOffset first, DateTimeOffset last, DateTimeOffset justClosed, CancellationToken cancellationToken)
    {
        var marksReadAt = time.GetUtcNow(); // before the marks are read: a mark not seen yet is later than this, less the write time-out
        var daysRead = QueryBucketsAsync(organizationId, AggregateKeys.DayBucket(first), AggregateKeys.DayBucket(last.AddHours(-1)), consistent: false, cancellationToken);
        var marksRead = QueryBucketsAsync(organizationId, AggregateKeys.MarksBucket(first), AggregateKeys.MarksBucket(last.AddHours(-1)), consistent: true, cancellationToken);
        var kept = (await daysRead).ToDictionary(d => AggregateKeys.DayOf(d[AggregateKeys.Bucket].S));
        var marksOf = (await marksRead).ToDictionary(m => AggregateKeys.DayOf(m[AggregateKeys.Bucket].S));

        var result = new SortedDictionary<DateTimeOffset, (PaymentTotals Totals, DateTimeOffset Covered)>();
        var open = new List<(DateTimeOffset Day, DateTimeOffset From, DateTimeOffset To)>(); // days whose hours are needed
        for (var day = AggregateKeys.FloorDay(first); day < last; day = day.AddDays(1))
        {
            var whole = day >= first && day.AddDays(1) <= last;
            if (whole && kept.TryGetValue(day, out var item) && DayStands(item, marksOf.GetValueOrDefault(day)) && TotalsOf(item) is { } dayTotals)
                result[day] = (dayTotals, marksReadAt);
            else open.Add((day, Max(day, first), Min(day.AddDays(1), last)));
        }
        if (open.Count == 0) return result;

        // The hours of those days: kept ones that stand, the rest read from the payments (consecutive hours in one read).
        var hourItems = await InParallelAsync(Runs(open.SelectMany(d => HoursOf(d.From, d.To)), TimeSpan.FromHours(1)), (run, ct) => QueryBucketsAsync(organizationId,
            AggregateKeys.HourBucket(run.From), AggregateKeys.HourBucket(run.To.AddHours(-1)), consistent: false, ct), cancellationToken);
        var keptHours = hourItems.SelectMany(h => h).ToDictionary(h => AggregateKeys.HourOf(h[AggregateKeys.Bucket].S));
        var hours = new SortedDictionary<DateTimeOffset, (PaymentTotals Totals, DateTimeOffset ReadAt)>();
        var unread = new List<DateTimeOffset>();
        foreach (var (day, from, to) in open)
        {
            var dayMarks = marksOf.GetValueOrDefault(day);
            foreach (var hour in HoursOf(from, to))
            {
                if (keptHours.TryGetValue(hour, out var item) && OfThisGeneration(item) && item.TryGetValue(AggregateKeys.ComputedAt, out var at)
                    && TimeOf(at) is { } readAt && Stands(readAt, dayMarks, AggregateKeys.MarkAttribute(hour)) && TotalsOf(item) is { } hourTotals)
                    hours[hour] = (hourTotals, readAt);
                else unread.Add(hour);
            }
        }

        // An hour kept before (marked since, or cut off while read), a busy hour kept under another generation and the hour
        // just closed are read through their slices: kept slices that stand are summed and only the others read again, so a
        // refund into a telethon's hour costs a re-read of its slice, not of the hour, and an hour too big to read in one
        // request is read over several, each keeping the slices it completed. Such an hour is kept (as soon as it is summed)
        // as read when its marks were: a write marked by then marked its slice too and was either counted by a slice read
        // after it landed or read again now; any later mark is later than that time less Settle, so the kept hour does not
        // stand against it.
        var bySlices = unread.Where(hour => hour == justClosed || keptHours.TryGetValue(hour, out var item)
            && (OfThisGeneration(item) || TotalsOf(item) is not { } old || old.Payments >= KeepSlicesFrom * SlicesPerHour)).ToList();
        if (bySlices.Count > 0)
        {
            var summed = await InParallelAsync(bySlices, async (hour, ct) =>
            {
                PaymentTotals hourTotals;
                try
                {
                    hourTotals = await ReadSlicesAsync(organizationId, hour, hour.AddHours(1), ct);
                }
                catch (Exception) when (!keptHours.ContainsKey(hour))
                {
                    // Cut off (its completed slices are kept): the next read takes it through its slices too, even once it is
                    // no longer the hour just closed.
                    await KeepAsync([UnfinishedHourItem(organizationId, hour)]);
                    throw;
                }
                if (!hourTotals.IsEmpty) await KeepAsync([HourItem(organizationId, hour, hourTotals, marksReadAt, Generation)]);
                return (Hour: hour, Totals: hourTotals);
            }, cancellationToken);
            foreach (var (hour, hourTotals) in summed) hours[hour] = (hourTotals, marksReadAt);
            unread.RemoveAll(bySlices.Contains);
        }

        if (unread.Count > 0)
        {
            var readAt = time.GetUtcNow(); // before the payments are read: the totals hold every write landed by then
            // A day at most per read, read by slice and kept as it is read (or as far as it got, when cut off): a first read of
            // a long history cut short still leaves progress, down to the slices of an hour too big for one request. An hour
            // without payments is not kept: reading it again costs one empty query, keeping it one item per hour.
            var read = await InParallelAsync(Runs(unread, TimeSpan.FromHours(1), most: 24), async (run, ct) =>
                HoursOf(await ReadBySliceAsync(organizationId, run.From, run.To, slices => KeepHoursAsync(organizationId, slices, readAt), ct)), cancellationToken);
            foreach (var (hour, hourTotals) in read.SelectMany(byHour => byHour)) hours[hour] = (hourTotals, readAt);
        }

        foreach (var (day, from, to) in open)
        {
            var dayHours = hours.Where(h => h.Key >= from && h.Key < to).ToList();
            var dayTotals = new PaymentTotals();
            foreach (var (_, (hourTotals, _)) in dayHours) dayTotals.Add(hourTotals);
            result[day] = (dayTotals, marksReadAt);
        }
        await KeepAsync(open.Where(d => d.From == d.Day && d.To == d.Day.AddDays(1))
            .Select(d => DayItem(organizationId, d.Day, hours.Where(h => h.Key >= d.From && h.Key < d.To).ToList(), Generation)).ToList());
        return result;
    }

    /// <summary>A kept total read at <paramref name="readAt"/> stands if no write marked for its hour (or slice) can have landed after that.</summary>
    private bool Stands(DateTimeOffset readAt, Dictionary<string, AttributeValue>? marks, string markAttribute) =>
        marks is null || !marks.TryGetValue(markAttribute, out var mark)
            || string.CompareOrdinal(mark.S, PaymentItemKeys.Timestamp(readAt - Settle)) <= 0;

    private bool DayStands(Dictionary<string, AttributeValue> day, Dictionary<string, AttributeValue>? marks)
    {
        if (!OfThisGeneration(day) || !day.TryGetValue(AggregateKeys.Computed, out var computed) || computed.M is not { Count: 24 } readAt) return false;
        var start = AggregateKeys.DayOf(day[AggregateKeys.Bucket].S);
        foreach (var hour in HoursOf(start, start.AddDays(1)))
            if (!readAt.TryGetValue(AggregateKeys.HourOfDay(hour), out var at) || TimeOf(at) is not { } time || !Stands(time, marks, AggregateKeys.MarkAttribute(hour))) return false;
        return true;
    }

    /// <summary>A closed month's kept totals stand if every day's latest mark is older, by <see cref="Settle"/>, than what that day's part covered.</summary>
    private bool MonthStands(Dictionary<string, AttributeValue> month, Dictionary<string, AttributeValue>? marks)
    {
        var start = AggregateKeys.MonthOf(month[AggregateKeys.Bucket].S);
        var days = (int)(start.AddMonths(1) - start).TotalDays;
        if (!OfThisGeneration(month) || !month.TryGetValue(AggregateKeys.Computed, out var computed) || computed.M is not { } covered || covered.Count != days) return false;
        for (var day = start; day < start.AddMonths(1); day = day.AddDays(1))
        {
            if (!covered.TryGetValue(AggregateKeys.DayOfMonth(day), out var until) || TimeOf(until) is not { } time) return false;
            if (marks is not null && marks.TryGetValue(AggregateKeys.DayMarkAttribute(day), out var mark)
                && string.CompareOrdinal(mark.S, PaymentItemKeys.Timestamp(time - Settle)) > 0) return false;
        }
        return true;
    }

    internal static Dictionary<string, AttributeValue> MonthItem(Guid organizationId, DateTimeOffset month,
        IReadOnlyList<KeyValuePair<DateTimeOffset, (PaymentTotals Totals, DateTimeOffset Covered)>> days, int generation)
    {
        var totals = new PaymentTotals();
        foreach (var (_, (dayTotals, _)) in days) totals.Add(dayTotals.CampaignsOnly());
        var item = AggregateKeys.KeyOf(organizationId, AggregateKeys.MonthBucket(month));
        item[AggregateKeys.Totals] = new(totals.ToJson());
        item[AggregateKeys.Computed] = new AttributeValue { M = days.ToDictionary(d => AggregateKeys.DayOfMonth(d.Key), d => PaymentItemMapper.Time(d.Value.Covered)) };
        item[AggregateKeys.Generation] = PaymentItemMapper.N(generation);
        return item;
    }

    internal static Dictionary<string, AttributeValue> HourItem(Guid organizationId, DateTimeOffset hour, PaymentTotals totals, DateTimeOffset readAt, int generation)
    {
        var item = AggregateKeys.KeyOf(organizationId, AggregateKeys.HourBucket(hour));
        foreach (var (name, value) in TotalsItem(totals, readAt, generation)) item[name] = value;
        return item;
    }

    /// <summary>A kept slice as its hour's slices item holds it.</summary>
    internal static Dictionary<string, AttributeValue> SliceValue(PaymentTotals totals, DateTimeOffset readAt, int generation) => TotalsItem(totals, readAt, generation);

    /// <summary>Kept totals as an hour or a slice holds them: the totals, when their payments were read, and the generation.</summary>
    private static Dictionary<string, AttributeValue> TotalsItem(PaymentTotals totals, DateTimeOffset readAt, int generation) => new()
    {
        [AggregateKeys.Totals] = new(totals.ToJson()),
        [AggregateKeys.ComputedAt] = PaymentItemMapper.Time(readAt),
        [AggregateKeys.Generation] = PaymentItemMapper.N(generation),
    };

    internal static Dictionary<string, AttributeValue> DayItem(Guid organizationId, DateTimeOffset day,
        IReadOnlyList<KeyValuePair<DateTimeOffset, (PaymentTotals Totals, DateTimeOffset ReadAt)>> hours, int generation)
    {
        var totals = new PaymentTotals();
        foreach (var (_, (hourTotals, _)) in hours) totals.Add(hourTotals);
        var item = AggregateKeys.KeyOf(organizationId, AggregateKeys.DayBucket(day));
        item[AggregateKeys.Totals] = new(totals.ToJson());
        item[AggregateKeys.Computed] = new AttributeValue { M = hours.ToDictionary(h => AggregateKeys.HourOfDay(h.Key), h => PaymentItemMapper.Time(h.Value.ReadAt)) };
        item[AggregateKeys.Generation] = PaymentItemMapper.N(generation);
        return item;
    }

    private int Generation => options.AggregatesGeneration;

    /// <summary>Kept under the configured generation: raising it sets aside every total kept before (see <see cref="DynamoDbOptions.AggregatesGeneration"/>).</summary>
    private bool OfThisGeneration(Dictionary<string, AttributeValue> item) =>
        item.TryGetValue(AggregateKeys.Generation, out var generation) && generation.N == Generation.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A kept read time; null (the item does not stand) for one this code cannot read.</summary>
    private static DateTimeOffset? TimeOf(AttributeValue value) =>
        DateTimeOffset.TryParseExact(value.S, "O", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal, out var time)
            ? time : null;

    /// <summary>A kept item's totals; null (read the payments again) for one this code cannot read.</summary>
    private PaymentTotals? TotalsOf(Dictionary<string, AttributeValue> item, string? bucket = null)
    {
        try
        {
            return item.TryGetValue(AggregateKeys.Totals, out var totals) ? PaymentTotals.FromJson(totals.S) : null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or ArgumentException or NullReferenceException)
        {
            logger?.LogWarning(e, "Kept totals {Bucket} could not be read; reading their payments instead", bucket ?? item[AggregateKeys.Bucket].S);
            return null;
        }
    }

    /// <summary>
    /// Keeps totals for the next reader, best effort (<see cref="KeepBestEffortAsync"/>). An item over DynamoDB's 400 KB
    /// (thousands of campaigns with payments in one day) is not kept: those hours are read from their payments every time.
    /// </summary>
    private async Task KeepAsync(List<Dictionary<string, AttributeValue>> items)
    {
        var keep = items.Where(i => DynamoDbItemSize.Of(i) <= MaxItemBytes).ToList();
        if (keep.Count < items.Count) logger?.LogWarning("{Count} aggregate items exceed DynamoDB's item size and are not kept", items.Count - keep.Count);
        if (keep.Count == 0) return;
        await KeepBestEffortAsync("aggregate items", keep.Count, bound => Parallel.ForEachAsync(keep.Chunk(25),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = bound }, async (chunk, ct) =>
            {
                var request = new BatchWriteItemRequest
                {
                    RequestItems = new() { [Table] = chunk.Select(i => new WriteRequest(new PutRequest(i))).ToList() },
                    ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
                };
                await caller.CallAsync("keep_aggregates", Table, c => dynamo.BatchWriteItemAsync(request, c), ct); // unprocessed ones: kept next time
            }));
    }

    /// <summary>
    /// A keep within <see cref="DynamoDbOptions.WriteTimeout"/> of its own (the reader has its answer; a client going away does
    /// not undo the reading); a failure is logged, not raised: it costs the next reader a read of the payments, nothing more.
    /// </summary>
    private async Task KeepBestEffortAsync(string what, int count, Func<CancellationToken, Task> keep)
    {
        using var bound = new CancellationTokenSource(options.WriteTimeout);
        try
        {
            await keep(bound.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever failed (a throttle, a time-out, a socket), the reader has its answer: a lost keep costs a re-read.
            logger?.LogWarning(e, "Could not keep {Count} {What}; the next read reads their payments again", count, what);
        }
    }

    private const int MaxItemBytes = 400 * 1024;

    // ----- payments -----

    private async Task<PaymentTotals> ReadPaymentsAsync(Guid organizationId, DateTimeOffset from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var totals = new PaymentTotals();
        await ForEachPaymentAsync(organizationId, from, to, (_, page) => page.ForEach(totals.Add), started: null, finished: null, cancellationToken);
        return totals;
    }

    /// <summary>
    /// The totals of each slice in [from, to), read from their payments (empty ones included), with the number of payments
    /// of each, handed to <paramref name="keep"/>. A read cut off (a deadline, a failure) still hands over the slices it
    /// completed before the failure is raised, so that the next read need not start over.
    /// </summary>
    private async Task<Dictionary<DateTimeOffset, (PaymentTotals Totals, int Payments)>> ReadBySliceAsync(Guid organizationId, DateTimeOffset from, DateTimeOffset to,
        Func<Dictionary<DateTimeOffset, (PaymentTotals Totals, int Payments)>, Task> keep, CancellationToken cancellationToken)
    {
        var read = new PaymentsByPeriod(from, to, AggregateKeys.SliceLength);
        try
        {
            await ForEachPaymentAsync(organizationId, from, to, read.Add, read.Started, read.Finished, cancellationToken);
        }
        catch (Exception failure)
        {
            var complete = read.Complete(); // every shard's query has ended: no page is added any more
            // What an operator sees of a read too long for its request: how far it got, and that the next goes on from there.
            logger?.LogInformation("A read of organization {OrganizationId}'s payments from {From:O} to {To:O} was cut off ({Failure}) with {Complete} of its slices read; those are kept",
                organizationId, from, to, failure.GetType().Name, complete.Count);
            caller.AggregateReadCutOff(complete.Count);
            if (complete.Count > 0)
            {
                try
                {
                    await keep(complete);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    logger?.LogWarning(e, "Could not keep the {Count} slices read before a read was cut off ({Failure})", complete.Count, failure.GetType().Name);
                }
            }
            throw;
        }
        var all = read.All();
        await keep(all);
        return all;
    }

    /// <summary>Items per page of a payments query (null: DynamoDB's 1 MB pages). Smaller pages let tests cut a read off midway.</summary>
    internal int? PageItems { get; set; }

    /// <summary>
    /// Every payment created in [from, to), strongly consistent, page by page in time order (one page per shard in memory at a
    /// time). The callbacks are called one at a time.
    /// </summary>
    private async Task ForEachPaymentAsync(Guid organizationId, DateTimeOffset from, DateTimeOffset? to, Action<int, List<Dictionary<string, AttributeValue>>> addPage,
        Action<int>? started, Action<int>? finished, CancellationToken cancellationToken)
    {
        var shards = await shardsDuring(organizationId, from, to ?? DateTimeOffset.MaxValue, cancellationToken);
        var gate = new object();
        if (started is not null) for (var shard = 0; shard < shards; shard++) started(shard);
        // Every shard at once (64 at most): a read cut off keeps only what all of them have read past, so none may wait for
        // another's whole read; each query waits for a slot of the instance's budget instead (PaymentQueryBudget).
        await Parallel.ForEachAsync(Enumerable.Range(0, shards), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, shards), CancellationToken = cancellationToken }, async (shard, ct) =>
        {
            var names = new Dictionary<string, string> { ["#pk"] = PaymentItemKeys.Partition, ["#sk"] = PaymentItemKeys.SortKey };
            var projection = PaymentTotals.Attributes.Select((a, i) => { names[$"#p{i}"] = a; return $"#p{i}"; });
            var request = new QueryRequest
            {
                TableName = options.TransactionsTableName,
                KeyConditionExpression = "#pk = :pk AND #sk BETWEEN :from AND :to",
                ExpressionAttributeNames = names,
                ExpressionAttributeValues = new()
                {
                    [":pk"] = new(PaymentItemKeys.PartitionOf(organizationId, shard)),
                    // Every key of an instant t sorts after "t" itself: BETWEEN from AND to selects from <= createdAt < to.
                    [":from"] = new(PaymentItemKeys.Timestamp(from)),
                    [":to"] = new(to is { } end ? PaymentItemKeys.Timestamp(end) : "~"),
                },
                ProjectionExpression = string.Join(", ", projection),
                ConsistentRead = true,
                Limit = PageItems,
            };
            await foreach (var page in caller.PagesAsync(dynamo, request, "query_payment_totals", ct,
                send: (query, c) => PaymentQueryBudget.DynamoDbTotals.RunAsync(organizationId, query, c)))
                lock (gate) addPage(shard, page);
            if (finished is not null) lock (gate) finished(shard);
        });
    }

    private async Task<Dictionary<string, AttributeValue>?> GetBucketAsync(Guid organizationId, string bucket, bool consistent, CancellationToken cancellationToken)
    {
        var response = await caller.CallAsync("get_aggregate", Table, ct => dynamo.GetItemAsync(new GetItemRequest
        {
            TableName = Table,
            Key = AggregateKeys.KeyOf(organizationId, bucket),
            ConsistentRead = consistent,
            ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
        }, ct), cancellationToken);
        return response.Item is { Count: > 0 } item ? item : null;
    }

    private async Task<List<Dictionary<string, AttributeValue>>> QueryBucketsAsync(Guid organizationId, string fromBucket, string toBucket, bool consistent,
        CancellationToken cancellationToken)
    {
        var request = new QueryRequest
        {
            TableName = Table,
            KeyConditionExpression = "#pk = :pk AND #bucket BETWEEN :from AND :to",
            ExpressionAttributeNames = new() { ["#pk"] = AggregateKeys.Partition, ["#bucket"] = AggregateKeys.Bucket },
            ExpressionAttributeValues = new() { [":pk"] = PaymentItemMapper.S(organizationId), [":from"] = new(fromBucket), [":to"] = new(toBucket) },
            ConsistentRead = consistent,
        };
        var items = new List<Dictionary<string, AttributeValue>>();
        await foreach (var page in caller.PagesAsync(dynamo, request, "query_aggregates", cancellationToken)) items.AddRange(page);
        return items;
    }

    /// <summary>Consecutive periods (hours or slices) of <paramref name="length"/> as ranges of at most <paramref name="most"/> periods.</summary>
    private static List<(DateTimeOffset From, DateTimeOffset To)> Runs(IEnumerable<DateTimeOffset> periods, TimeSpan length, int most = int.MaxValue)
    {
        var runs = new List<(DateTimeOffset From, DateTimeOffset To)>();
        foreach (var period in periods.Order())
        {
            if (runs.Count > 0 && runs[^1].To == period && (period - runs[^1].From) / length < most) runs[^1] = (runs[^1].From, period + length);
            else runs.Add((period, period + length));
        }
        return runs;
    }

    private static IEnumerable<DateTimeOffset> HoursOf(DateTimeOffset from, DateTimeOffset to)
    {
        for (var hour = from; hour < to; hour = hour.AddHours(1)) yield return hour;
    }

    private static Task<IReadOnlyList<T>> InParallelAsync<TInput, T>(IEnumerable<TInput> inputs, Func<TInput, CancellationToken, Task<T>> read, CancellationToken cancellationToken) =>
        DynamoDbReads.ScatterAsync(inputs, Parallelism, read, cancellationToken);

    private static DateTimeOffset CeilHour(DateTimeOffset value) =>
        PaymentItemKeys.FloorHour(value) is var floor && floor == value ? floor : floor.AddHours(1);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
