namespace ProLifeProsper.Domain.Common;

/// <summary>
/// Timestamps are UTC and truncated to whole microseconds: PostgreSQL stores microseconds, so a value
/// read back from either store compares equal to the value written (needed to compare stores exactly).
/// </summary>
public static class UtcClock
{
    public static DateTimeOffset Now(TimeProvider time) => Truncate(time.GetUtcNow());

    /// <summary>The first instant a client may name (a time range, a campaign's start).</summary>
    public static readonly DateTimeOffset Earliest = DateTimeOffset.UnixEpoch;

    /// <summary>
    /// The end of the times a client may name: far beyond any real payment, far enough from <see cref="DateTimeOffset.MaxValue"/>
    /// that hour buckets, shard keys and UUIDv7 arithmetic never overflow.
    /// </summary>
    public static readonly DateTimeOffset Latest = new(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static bool IsSupported(DateTimeOffset value) => value >= Earliest && value <= Latest;

    public static DateTimeOffset Truncate(DateTimeOffset value) => Truncate(value, TimeSpan.TicksPerMicrosecond);

    /// <summary>
    /// Whole milliseconds: the precision of a payment's creation time, which is also the precision of its
    /// UUIDv7 id, so the id alone locates the payment in time-ordered storage.
    /// </summary>
    public static DateTimeOffset TruncateToMilliseconds(DateTimeOffset value) => Truncate(value, TimeSpan.TicksPerMillisecond);

    private static DateTimeOffset Truncate(DateTimeOffset value, long unit)
    {
        var utc = value.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % unit, TimeSpan.Zero);
    }
}
