using System.Diagnostics;

namespace ProLifeProsper.Api.Infrastructure.Telemetry;

/// <summary>The span of some background work (<see cref="BackgroundTracing.StartWork"/>); disposing it ends the span and returns to quiet.</summary>
public sealed class BackgroundWork(Activity? activity, IDisposable? recording) : IDisposable
{
    /// <summary>The span, or null when nobody records traces.</summary>
    public Activity? Activity { get; } = activity;

    public BackgroundWork SetTag(string name, object? value)
    {
        Activity?.SetTag(name, value);
        return this;
    }

    public void Dispose()
    {
        Activity?.Dispose();
        recording?.Dispose();
    }
}
