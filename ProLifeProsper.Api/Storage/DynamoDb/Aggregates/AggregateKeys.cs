using System.Globalization;
using Amazon.DynamoDBv2.Model;

namespace ProLifeProsper.Api.Storage.DynamoDb.Aggregates;

/// <summary>
/// The key design of the aggregates table: partition <c>organizationId</c>, sort <c>bucket</c>.
/// <list type="bullet">
/// <item><c>H#2026-11-28T13</c>: the totals of one closed UTC hour (<c>totals</c>) and when they were read (<c>computedAt</c>).</item>
/// <item><c>D#2026-11-28</c>: the totals of one closed UTC day, and per hour when that hour's part was read (<c>computed</c>).</item>
/// <item><c>M#2026-11</c>: the totals of one closed UTC month, and per day until when that day's part is known to hold
/// every marked write (<c>computed</c>).</item>
/// <item><c>X#2026-11-28</c>: marks. <c>h13</c> = the latest time a write that could change hour 13's totals after it closed
/// was about to be sent (a refund, a settlement, a late create, a migration copy).</item>
/// <item><c>Y#2026-11</c>: the month's marks: <c>d28</c> = the latest mark of any hour of the 28th.</item>
/// <item><c>S#5#2026-11-28T13</c>: the hour's 5-minute slices, kept as they close (from 8 payments read): <c>s05</c> = the
/// totals of 13:05–13:10 (<c>totals</c>), when they were read (<c>computedAt</c>) and their <c>generation</c>. The open hour
/// is read from them, its close sums them, and a closed hour marked later reads again only its marked slices.</item>
/// <item><c>Z#5#2026-11-28T13</c>: their marks: <c>m05</c> = the latest time a write that could change that slice after it
/// ended was about to be sent (at any age of the hour). Only hours with such writes have one.</item>
/// </list>
/// Times are fixed-width UTC strings (<see cref="PaymentItemKeys.Timestamp"/>), so string order is time order.
/// </summary>
public static class AggregateKeys
{
    public const string Partition = "organizationId";
    public const string Bucket = "bucket";
    public const string Totals = "totals";
    public const string ComputedAt = "computedAt";
    public const string Computed = "computed";
    public const string Generation = "generation";

    private const string DayFormat = "yyyy-MM-dd", MonthFormat = "yyyy-MM";

    public static string HourBucket(DateTimeOffset hour) => "H#" + PaymentItemKeys.Hour(hour);

    public static string MonthBucket(DateTimeOffset month) => "M#" + Month(month);

    public static string MonthMarksBucket(DateTimeOffset month) => "Y#" + Month(month);

    /// <summary>The attribute of a month's marks item that holds the latest mark of any hour of that day.</summary>
    public static string DayMarkAttribute(DateTimeOffset day) => "d" + DayOfMonth(day);

    /// <summary>The day of month (two digits) that keys a day's entry in a month's <c>computed</c> map.</summary>
    public static string DayOfMonth(DateTimeOffset day) => day.UtcDateTime.Day.ToString("00", CultureInfo.InvariantCulture);

    public static DateTimeOffset FloorMonth(DateTimeOffset value) => new(value.UtcDateTime.Year, value.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero);

    public static DateTimeOffset MonthOf(string bucket) =>
        DateTimeOffset.ParseExact(bucket[2..], MonthFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public static string DayBucket(DateTimeOffset day) => "D#" + Day(day);

    public static string MarksBucket(DateTimeOffset day) => "X#" + Day(day);

    /// <summary>The attribute of a marks item that holds the marks of the hour starting at <paramref name="hour"/>.</summary>
    public static string MarkAttribute(DateTimeOffset hour) => "h" + hour.UtcDateTime.Hour.ToString("00", CultureInfo.InvariantCulture);

    /// <summary>The hour of day (two digits) that keys an hour's entry in a day's <c>computed</c> map.</summary>
    public static string HourOfDay(DateTimeOffset hour) => hour.UtcDateTime.Hour.ToString("00", CultureInfo.InvariantCulture);

    /// <summary>The open hour is kept in slices of this length: a read of it reads live only the payments since its last closed slice.</summary>
    public static readonly TimeSpan SliceLength = TimeSpan.FromMinutes(5);

    // The slice length is part of the names: slices of another length are not these.
    private static string SliceItem(DateTimeOffset hour) => $"{SliceLength.TotalMinutes.ToString(CultureInfo.InvariantCulture)}#{PaymentItemKeys.Hour(hour)}";

    public static string SlicesBucket(DateTimeOffset hour) => "S#" + SliceItem(hour);

    public static string SliceMarksBucket(DateTimeOffset hour) => "Z#" + SliceItem(hour);

    /// <summary>The attribute of the slices item that holds the slice starting at <paramref name="slice"/>.</summary>
    public static string SliceAttribute(DateTimeOffset slice) => "s" + slice.UtcDateTime.Minute.ToString("00", CultureInfo.InvariantCulture);

    /// <summary>The attribute of the slice marks item that holds the marks of the slice starting at <paramref name="slice"/>.</summary>
    public static string SliceMarkAttribute(DateTimeOffset slice) => "m" + slice.UtcDateTime.Minute.ToString("00", CultureInfo.InvariantCulture);

    /// <summary>The start of the slice that contains <paramref name="value"/>.</summary>
    public static DateTimeOffset FloorSlice(DateTimeOffset value)
    {
        var hour = PaymentItemKeys.FloorHour(value);
        return hour + TimeSpan.FromTicks((value - hour).Ticks / SliceLength.Ticks * SliceLength.Ticks);
    }

    public static DateTimeOffset FloorDay(DateTimeOffset value) => new(value.UtcDateTime.Date, TimeSpan.Zero);

    public static DateTimeOffset DayOf(string bucket) =>
        DateTimeOffset.ParseExact(bucket[2..], DayFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public static DateTimeOffset HourOf(string bucket) =>
        DateTimeOffset.ParseExact(bucket[2..], "yyyy-MM-dd'T'HH", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public static Dictionary<string, AttributeValue> KeyOf(Guid organizationId, string bucket) => new()
    {
        [Partition] = PaymentItemMapper.S(organizationId),
        [Bucket] = new(bucket),
    };

    private static string Day(DateTimeOffset day) => day.UtcDateTime.ToString(DayFormat, CultureInfo.InvariantCulture);

    private static string Month(DateTimeOffset month) => month.UtcDateTime.ToString(MonthFormat, CultureInfo.InvariantCulture);
}
