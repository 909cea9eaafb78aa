using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Trace;

namespace ProLifeProsper.Api.Tests.Telemetry;

/// <summary>An untraced scope drops spans only: a poll's warning inside it still reaches the log exporter.</summary>
[Collection(TracingCollection.Name)]
public sealed class UntracedScopeTests
{
    [Fact]
    public void Inside_an_untraced_scope_no_span_is_recorded_but_logs_are_still_exported()
    {
        var logs = new Captured<LogRecord>(l => $"{l.CategoryName}: {l.FormattedMessage ?? l.Body}");
        var spans = new Captured<Activity>(s => s.Recorded ? s.DisplayName : "(not recorded)");
        using var source = new ActivitySource("ProLifeProsper.Tests.Untraced");
        using var tracing = Sdk.CreateTracerProviderBuilder().SetSampler(new UntracedAwareSampler()).AddSource(source.Name).AddProcessor(spans).Build();
        using var logging = LoggerFactory.Create(builder => builder.AddOpenTelemetry(options => options.AddProcessor(logs)));
        var logger = logging.CreateLogger("poll");

        using (Untraced.Begin())
        {
            using (source.StartActivity("idle poll")) logger.LogWarning("the poll failed");
            using (Untraced.Begin(false))
            using (source.StartActivity("work the poll found")) { }
        }
        using (source.StartActivity("request")) { }

        Assert.Equal(["work the poll found", "request"], spans.Items.Where(s => s != "(not recorded)"));
        Assert.Equal(["poll: the poll failed"], logs.Items); // OpenTelemetry's SuppressInstrumentationScope would drop it
    }

    // What each exported item said, taken when it is exported (log records are pooled and cleared afterwards).
    private sealed class Captured<T>(Func<T, string> describe) : BaseProcessor<T> where T : class
    {
        private readonly List<string> _items = [];

        public IReadOnlyList<string> Items { get { lock (_items) return [.. _items]; } }

        public override void OnEnd(T data)
        {
            lock (_items) _items.Add(describe(data));
        }
    }
}
