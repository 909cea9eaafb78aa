namespace ProLifeProsper.Domain.Common;

/// <summary>
/// Timestamps are UTC and truncated to whole microseconds: PostgreSQL stores microseconds, so a value
/// read back from either store compares equal to the value written (needed to compare stores exactly).
/// </summary>
public static class UtcClock
{
    public static DateTimeOffset Now(TimeProvider time) => Truncate(time.GetUtcNow());

    public static DateTimeOffset Truncate(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % TimeSpan.TicksPerMicrosecond, TimeSpan.Zero);
    }
}
