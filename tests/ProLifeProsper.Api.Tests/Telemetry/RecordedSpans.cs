using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace ProLifeProsper.Api.Tests.Telemetry;

/// <summary>
/// The spans an API's OpenTelemetry pipeline records, as an exporter (the dashboard's) would receive them. Tracer providers
/// listen process-wide, so tests that use this run in <see cref="TracingCollection"/>, alone.
/// </summary>
public sealed class RecordedSpans : BaseProcessor<Activity>
{
    private readonly ConcurrentQueue<Activity> _spans = new();

    public IReadOnlyList<Activity> All => [.. _spans];

    public void Clear() => _spans.Clear();

    /// <summary>The first span that matches, once recorded (a server span ends just after its response is sent).</summary>
    public async Task<Activity> WaitForAsync(Func<Activity, bool> match)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (All.FirstOrDefault(match) is { } found) return found;
            Assert.True(DateTime.UtcNow < deadline, "the span was not recorded; recorded: " + string.Join(", ", All.Select(s => s.DisplayName)));
            await Task.Delay(50);
        }
    }

    public override void OnEnd(Activity data)
    {
        if (data.Recorded) _spans.Enqueue(data); // what an export processor would send
    }

    /// <summary>
    /// Adds this recorder to the API's tracer provider, whose sampler records everything, as under the Aspire AppHost
    /// (which sets <c>OTEL_TRACES_SAMPLER=always_on</c>: a caller's "not sampled" is not enough there).
    /// </summary>
    public void AddTo(IWebHostBuilder builder)
    {
        builder.UseSetting("OTEL_TRACES_SAMPLER", "always_on");
        builder.ConfigureTestServices(services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddProcessor(this)));
    }
}

/// <summary>Tests that record an API's spans: run alone, so no other test's API adds spans to theirs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TracingCollection
{
    public const string Name = "Tracing";
}
