using System.Diagnostics;

namespace ProLifeProsper.Api.Infrastructure.Telemetry;

/// <summary>
/// Tracing for background polls. A poll that finds nothing to do is not worth a trace: an idle AppHost otherwise records
/// thousands of them (routing re-reads, outbox and settlement polls) and a person cannot find their own request among them.
/// A poll therefore runs <see cref="Quiet"/>: no span of any source (Npgsql, HttpClient, this app's) is recorded while it
/// only looks. When it finds work, <see cref="StartWork"/> opens a span for that work and what the work does is traced
/// beneath it.
/// </summary>
public static class BackgroundTracing
{
    /// <summary>Records no spans in the calling flow until disposed (logs and metrics still flow: a failing poll is seen).</summary>
    public static IDisposable Quiet() => Untraced.Begin();

    /// <summary>
    /// A span for work that a poll found: in a <see cref="Quiet"/> poll, the root of a trace of its own (spans are recorded
    /// again until it is disposed); elsewhere (an operator's request that drains the outbox), a child of the current span.
    /// </summary>
    public static BackgroundWork StartWork(string name)
    {
        if (!Untraced.IsActive) return new BackgroundWork(ApiTelemetry.ActivitySource.StartActivity(name), null);
        var recording = Untraced.Begin(false);
        Activity.Current = null; // a root: the poll that found the work was not traced
        return new BackgroundWork(ApiTelemetry.ActivitySource.StartActivity(name), recording);
    }
}
