using System.Diagnostics;
using ProLifeProsper.Api.Infrastructure.Telemetry;

namespace ProLifeProsper.Api.Storage;

/// <summary>
/// Concurrent reads of one key share a single store read, and each caller is answered by a read that <em>started after it
/// asked</em>: a caller arriving while a read of its key runs waits for the next one, which starts when that one ends and
/// answers everyone who waited meanwhile. So a caller still sees every write that completed before it asked (read-your-writes
/// holds as for an unshared read), and each key is read at most once at a time per process, however many callers ask.
/// <para>
/// Written by hand: HybridCache and FusionCache coalesce too, but a caller joins whatever read is in flight (or a cached
/// value), which may have started before its own write was answered.
/// </para>
/// </summary>
/// <param name="name">Names each shared read's span (its own trace, linked to the requests it answers).</param>
/// <param name="read">The read; it gets its own time-out, never a caller's token (one caller giving up must not fail the others).</param>
/// <param name="timeout">
/// How long one shared read may take; its callers then get a <see cref="TimeoutException"/> (a 503). A caller that arrived
/// during a read waits for the rest of that one and then its own: at most about twice this (and <paramref name="finishAfterDeadline"/>).
/// </param>
/// <param name="finishAfterDeadline">
/// How long a read cut off by its deadline may go on finishing (keeping what it completed) before the next read of its key
/// starts: its callers are answered at the deadline, and the next read goes on from what it kept instead of repeating it.
/// </param>
public sealed class ReadCoalescer<TKey, TValue>(string name, Func<TKey, CancellationToken, Task<TValue>> read, TimeSpan timeout,
    TimeSpan finishAfterDeadline = default)
    where TKey : notnull
{
    /// <summary>How long past its deadline a read that has not stopped on its token is still waited for.</summary>
    private static readonly TimeSpan IgnoredDeadlineGrace = TimeSpan.FromSeconds(1);

    // Bounded: Task.Delay refuses more than ~49 days, and no keep needs an hour.
    private readonly TimeSpan _finishAfterDeadline = finishAfterDeadline > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : finishAfterDeadline;

    private readonly Lock _lock = new();
    // A key is here while a read of it runs; Next collects the callers that arrived during that read.
    private readonly Dictionary<TKey, Waiting> _running = [];

    private sealed class Turn
    {
        // OpenTelemetry keeps 128 links per span by default; a telethon's views during one read could be thousands.
        private const int MaxLinks = 128;

        public readonly TaskCompletionSource<TValue> Answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly List<ActivityLink> Callers = [];
        public Task? Reading;

        public Task<TValue> Join(CancellationToken cancellationToken)
        {
            if (Activity.Current is { } caller && Callers.Count < MaxLinks) Callers.Add(new ActivityLink(caller.Context));
            return Answer.Task.WaitAsync(cancellationToken);
        }
    }

    private sealed class Waiting
    {
        public Turn? Next;
    }

    public Task<TValue> ReadAsync(TKey key, CancellationToken cancellationToken)
    {
        Turn turn;
        Task<TValue> answer;
        lock (_lock)
        {
            if (_running.TryGetValue(key, out var waiting)) return (waiting.Next ??= new Turn()).Join(cancellationToken);
            _running[key] = new Waiting();
            turn = new Turn();
            answer = turn.Join(cancellationToken);
        }
        // Not in the first caller's context (no ExecutionContext captured): the reads serve many requests, each turn traced
        // on its own and linked to them.
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Coalescer.ReadInTurnsAsync(state.Key, state.Turn), (Coalescer: this, Key: key, Turn: turn),
            preferLocal: false);
        return answer;
    }

    private async Task ReadInTurnsAsync(TKey key, Turn turn)
    {
        while (true)
        {
            try
            {
                turn.Answer.TrySetResult(await ReadOnceAsync(key, turn));
            }
            catch (Exception e)
            {
                // Anything the read, its deadline or its span throws ends up here (ReadOnceAsync is async): the turn is answered.
                turn.Answer.TrySetException(e);
                if (turn.Reading is { IsCompleted: false } reading)
                {
                    // Abandoned: whatever it ends with later is observed here, not left to the finalizer.
                    _ = reading.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                        TaskScheduler.Default);
                    if (_finishAfterDeadline > TimeSpan.Zero)
                        await Task.WhenAny(reading, Task.Delay(_finishAfterDeadline)); // never throws: the key is freed below whatever happens
                }
            }

            lock (_lock)
            {
                var waiting = _running[key];
                if (waiting.Next is null)
                {
                    _running.Remove(key);
                    return;
                }
                turn = waiting.Next;
                waiting.Next = null;
            }
        }
    }

    private async Task<TValue> ReadOnceAsync(TKey key, Turn turn)
    {
        List<ActivityLink> callers;
        lock (_lock) callers = [.. turn.Callers];
        using var span = ApiTelemetry.ActivitySource.StartActivity(name, ActivityKind.Internal, parentContext: default, links: callers);
        var deadline = new CancellationTokenSource(timeout);
        var answered = false;
        try
        {
            // WaitAsync too, a moment later: a read that does not stop on its token must not hold the key (and its callers) for ever.
            var reading = read(key, deadline.Token);
            turn.Reading = reading;
            var value = await reading.WaitAsync(timeout + IgnoredDeadlineGrace);
            answered = true;
            return value;
        }
        catch (Exception e) when (e is OperationCanceledException && deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"The shared read took longer than {timeout.TotalSeconds:0} s.", e);
        }
        finally
        {
            // Cancelled, not disposed, unless it answered: a read still running past its deadline is told to stop.
            if (answered) deadline.Dispose();
            else await deadline.CancelAsync();
        }
    }
}
