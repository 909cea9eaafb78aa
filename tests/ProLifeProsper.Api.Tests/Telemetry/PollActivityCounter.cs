using System.Diagnostics;

namespace ProLifeProsper.Api.Tests.Telemetry;

/// <summary>
/// Counts the SQL commands the API runs, recorded or not: proof that its polls ran while nothing was traced. It asks for
/// propagation only, so the commands become activities that OpenTelemetry neither records nor exports.
/// </summary>
public sealed class PollActivityCounter : IDisposable
{
    private readonly ActivityListener _listener;
    private int _commands;

    public PollActivityCounter()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
            ActivityStopped = _ => Interlocked.Increment(ref _commands),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public int Commands => Volatile.Read(ref _commands);

    public void Dispose() => _listener.Dispose();
}
