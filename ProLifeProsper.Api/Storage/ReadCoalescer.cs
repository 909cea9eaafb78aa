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
/// <param name="read">The read; it gets its own time-out, never a caller's token (one caller giving up must not fail the others).</param>
/// <param name="timeout">How long one shared read may take; its callers then get an <see cref="OperationCanceledException"/> (a 503).</param>
public sealed class ReadCoalescer<TKey, TValue>(Func<TKey, CancellationToken, Task<TValue>> read, TimeSpan timeout)
    where TKey : notnull
{
    private readonly Lock _lock = new();
    // A key is here while a read of it runs; Next collects the callers that arrived during that read.
    private readonly Dictionary<TKey, Waiting> _running = [];

    private sealed class Waiting
    {
        public TaskCompletionSource<TValue>? Next;
    }

    public Task<TValue> ReadAsync(TKey key, CancellationToken cancellationToken)
    {
        TaskCompletionSource<TValue> answer;
        lock (_lock)
        {
            if (_running.TryGetValue(key, out var waiting))
            {
                answer = waiting.Next ??= new TaskCompletionSource<TValue>(TaskCreationOptions.RunContinuationsAsynchronously);
                return answer.Task.WaitAsync(cancellationToken);
            }
            _running[key] = new Waiting();
            answer = new TaskCompletionSource<TValue>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        _ = Task.Run(() => ReadInTurnsAsync(key, answer), CancellationToken.None);
        return answer.Task.WaitAsync(cancellationToken);
    }

    private async Task ReadInTurnsAsync(TKey key, TaskCompletionSource<TValue> answer)
    {
        while (true)
        {
            try
            {
                using var deadline = new CancellationTokenSource(timeout);
                answer.TrySetResult(await read(key, deadline.Token));
            }
            catch (Exception e)
            {
                answer.TrySetException(e);
            }

            lock (_lock)
            {
                var waiting = _running[key];
                if (waiting.Next is null)
                {
                    _running.Remove(key);
                    return;
                }
                answer = waiting.Next;
                waiting.Next = null;
            }
        }
    }
}
