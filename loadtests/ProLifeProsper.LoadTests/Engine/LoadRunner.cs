using System.Diagnostics;
using HdrHistogram;

namespace ProLifeProsper.LoadTests.Engine;

/// <summary>The outcome of one request: whether it succeeded, how many bytes came back, and its answer (an HTTP status, or the error).</summary>
public readonly record struct Outcome(bool Ok, long Bytes, string? Answer = null);

/// <summary>
/// Runs one operation under load. Closed model: N virtual users, each issuing the next request when the last
/// answers. Open model: requests start at a constant rate whatever the answers, and latency is measured from the
/// time each request was *due*, so queueing is counted (no coordinated omission). Warm-up is run, not recorded.
/// Bounded: it stops by itself after warm-up + duration.
/// </summary>
public sealed class LoadRunner(LoadOptions options)
{
    private const long MaxLatencyTicks = TimeSpan.TicksPerMinute;

    public async Task<ScenarioResult> RunAsync(string scenario, string configuration, Func<int, CancellationToken, Task<Outcome>> operation, Action<long>? progress = null)
    {
        var seconds = (int)Math.Ceiling(options.Duration.TotalSeconds);
        var total = new LongConcurrentHistogram(1, MaxLatencyTicks, 3);
        var perSecond = Enumerable.Range(0, seconds).Select(_ => new LongConcurrentHistogram(1, MaxLatencyTicks, 3)).ToArray();
        var errorsPerSecond = new long[seconds];
        long ok = 0, failed = 0, bytes = 0;
        var answers = new System.Collections.Concurrent.ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        var measureFrom = options.WarmUp;
        var end = options.WarmUp + options.Duration;

        void Record(TimeSpan dueAt, Outcome outcome)
        {
            var now = clock.Elapsed;
            if (dueAt < measureFrom || now > end) return;
            var latency = Math.Clamp((now - dueAt).Ticks, 1, MaxLatencyTicks);
            var second = Math.Min(seconds - 1, (int)(dueAt - measureFrom).TotalSeconds);
            total.RecordValue(latency);
            perSecond[second].RecordValue(latency);
            if (outcome.Ok) Interlocked.Increment(ref ok);
            else
            {
                Interlocked.Increment(ref failed);
                Interlocked.Increment(ref errorsPerSecond[second]);
            }
            Interlocked.Add(ref bytes, outcome.Bytes);
            answers.AddOrUpdate(outcome.Answer ?? (outcome.Ok ? "ok" : "failed"), 1, (_, n) => n + 1);
            progress?.Invoke(1);
        }

        async Task<Outcome> Safely(int worker, CancellationToken token)
        {
            try { return await operation(worker, token); }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException) { return new Outcome(false, 0, e.GetType().Name); }
        }

        using var stop = new CancellationTokenSource(end + TimeSpan.FromSeconds(30));
        if (options.Model == LoadModel.Closed)
        {
            await Task.WhenAll(Enumerable.Range(0, options.VirtualUsers).Select(worker => Task.Run(async () =>
            {
                while (clock.Elapsed < end)
                {
                    var started = clock.Elapsed;
                    Record(started, await Safely(worker, stop.Token));
                }
            })));
        }
        else
        {
            var interval = TimeSpan.FromSeconds(1 / options.RatePerSecond);
            var inFlight = new List<Task>();
            for (long i = 0; ; i++)
            {
                var due = interval * i;
                if (due >= end) break;
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.FromMilliseconds(1)) await Task.Delay(wait);
                var worker = (int)(i % Math.Max(1, options.VirtualUsers));
                inFlight.Add(Task.Run(async () => Record(due, await Safely(worker, stop.Token))));
                if (inFlight.Count > 4_096) inFlight.RemoveAll(t => t.IsCompleted);
            }
            await Task.WhenAll(inFlight);
        }

        double Ms(double ticks) => Math.Round(ticks / TimeSpan.TicksPerMillisecond, 3);
        double At(LongConcurrentHistogram histogram, double percentile) => histogram.TotalCount == 0 ? 0 : Ms(histogram.GetValueAtPercentile(percentile));
        var count = total.TotalCount;
        return new ScenarioResult(
            $"{scenario} @ {configuration}", scenario, configuration, options.Model.ToString().ToLowerInvariant(), options.VirtualUsers,
            options.Duration.TotalSeconds, ok, failed, Math.Round((ok + failed) / options.Duration.TotalSeconds, 1),
            At(total, 0), count == 0 ? 0 : Ms(total.GetMean()), count == 0 ? 0 : Ms(total.GetMaxValue()),
            At(total, 50), At(total, 75), At(total, 95), At(total, 99), bytes,
            perSecond.Select((h, s) => new SecondSample(s, h.TotalCount, errorsPerSecond[s], At(h, 50), At(h, 95), At(h, 99))).ToList())
        {
            Answers = answers.OrderByDescending(a => a.Value).ToDictionary(a => a.Key, a => a.Value),
        };
    }
}
