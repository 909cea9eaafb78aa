namespace ProLifeProsper.Api.Tests.Infrastructure;

/// <summary>
/// The system clock moved forward by what a test asks: the API's "now" (campaign ends, settlement age) jumps without a
/// wall-clock wait, while timers and timestamps keep real time so background workers run as usual.
/// </summary>
public sealed class ShiftedClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
