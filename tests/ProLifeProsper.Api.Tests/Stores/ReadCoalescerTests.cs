using ProLifeProsper.Api.Storage;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>The read coalescer alone, with reads the test releases one by one (the store's use of it runs on dynalite: DynamoDbPaymentTransactionStoreTests).</summary>
public sealed class ReadCoalescerTests
{
    /// <summary>Reads that wait for the test: each call takes the next gate and answers with its number.</summary>
    private sealed class GatedReads
    {
        private readonly List<TaskCompletionSource> _gates = [];
        private readonly List<CancellationToken> _tokens = [];
        private int _started;

        public int Started => Volatile.Read(ref _started);

        public IReadOnlyList<CancellationToken> Tokens { get { lock (_gates) return [.. _tokens]; } }

        /// <summary>A coalescer over these reads, with a deadline no test reaches.</summary>
        public ReadCoalescer<string, int> Coalescer() => new("test read", ReadAsync, TimeSpan.FromSeconds(30));

        public async Task<int> ReadAsync(string key, CancellationToken cancellationToken)
        {
            TaskCompletionSource gate;
            int number;
            lock (_gates)
            {
                number = ++_started;
                gate = Gate(number);
                _tokens.Add(cancellationToken);
            }
            await gate.Task.WaitAsync(TimeSpan.FromSeconds(10));
            return number;
        }

        public void Release(int number, Exception? failure = null)
        {
            lock (_gates)
            {
                if (failure is null) Gate(number).SetResult();
                else Gate(number).SetException(failure);
            }
        }

        private TaskCompletionSource Gate(int number)
        {
            while (_gates.Count < number) _gates.Add(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            return _gates[number - 1];
        }

        public async Task WaitStartedAsync(int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Started < count)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"read {count} never started ({Started} did)");
                await Task.Delay(5);
            }
        }
    }

    [Fact]
    public async Task A_caller_arriving_during_a_read_is_answered_by_a_read_that_started_after_it_asked()
    {
        var reads = new GatedReads();
        var coalescer = reads.Coalescer();

        var first = coalescer.ReadAsync("org", default);
        await reads.WaitStartedAsync(1);
        var second = coalescer.ReadAsync("org", default); // asked while read 1 runs: read 1 may predate its write

        reads.Release(1);
        Assert.Equal(1, await first);
        await reads.WaitStartedAsync(2);
        Assert.False(second.IsCompleted); // not answered by read 1
        reads.Release(2);
        Assert.Equal(2, await second);
        Assert.Equal(2, reads.Started);
    }

    [Fact]
    public async Task Every_caller_that_waited_during_one_read_shares_the_next_one()
    {
        var reads = new GatedReads();
        var coalescer = reads.Coalescer();

        var first = coalescer.ReadAsync("org", default);
        await reads.WaitStartedAsync(1);
        var waiting = Enumerable.Range(0, 50).Select(_ => coalescer.ReadAsync("org", default)).ToList();
        reads.Release(1);
        await reads.WaitStartedAsync(2);
        reads.Release(2);

        Assert.Equal(1, await first);
        Assert.All(await Task.WhenAll(waiting), value => Assert.Equal(2, value));
        Assert.Equal(2, reads.Started);

        // Nothing runs any more: the next caller starts a read of its own at once.
        var later = coalescer.ReadAsync("org", default);
        await reads.WaitStartedAsync(3);
        reads.Release(3);
        Assert.Equal(3, await later);
    }

    [Fact]
    public async Task Keys_are_read_independently()
    {
        var reads = new GatedReads();
        var coalescer = reads.Coalescer();

        var one = coalescer.ReadAsync("org-a", default);
        await reads.WaitStartedAsync(1);
        var other = coalescer.ReadAsync("org-b", default); // not held back by org-a's read
        await reads.WaitStartedAsync(2);
        reads.Release(2);
        Assert.Equal(2, await other);
        reads.Release(1);
        Assert.Equal(1, await one);
    }

    [Fact]
    public async Task A_caller_giving_up_does_not_cancel_the_read_the_others_wait_for()
    {
        var reads = new GatedReads();
        var coalescer = reads.Coalescer();
        using var impatient = new CancellationTokenSource();

        var gaveUp = coalescer.ReadAsync("org", impatient.Token);
        await reads.WaitStartedAsync(1);
        var patient = coalescer.ReadAsync("org", default);
        await impatient.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gaveUp);
        Assert.False(reads.Tokens[0].IsCancellationRequested); // the read has its own deadline, not the caller's token
        reads.Release(1);
        await reads.WaitStartedAsync(2);
        reads.Release(2);
        Assert.Equal(2, await patient);
    }

    [Fact]
    public async Task A_failed_read_fails_only_the_callers_it_answers()
    {
        var reads = new GatedReads();
        var coalescer = reads.Coalescer();

        var first = coalescer.ReadAsync("org", default);
        await reads.WaitStartedAsync(1);
        var second = coalescer.ReadAsync("org", default);
        reads.Release(1, new TimeoutException("the store did not answer"));

        await Assert.ThrowsAsync<TimeoutException>(() => first);
        await reads.WaitStartedAsync(2);
        reads.Release(2);
        Assert.Equal(2, await second);
    }

    [Fact]
    public async Task A_read_that_outlasts_its_deadline_answers_its_callers_with_a_failure_and_frees_its_key()
    {
        var calls = 0;
        var coalescer = new ReadCoalescer<string, int>("test read", async (_, _) =>
        {
            // Ignores its token, as a stuck call might: the deadline must still answer the callers.
            if (Interlocked.Increment(ref calls) == 1) await Task.Delay(Timeout.Infinite, CancellationToken.None);
            return 7;
        }, TimeSpan.FromMilliseconds(100));

        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(10)); // the test's own bound fails with another exception
        await Assert.ThrowsAsync<TimeoutException>(() => coalescer.ReadAsync("org", default).WaitAsync(guard.Token));
        Assert.Equal(7, await coalescer.ReadAsync("org", default).WaitAsync(guard.Token));
    }

    [Fact]
    public async Task A_read_cut_off_by_its_deadline_finishes_keeping_its_progress_before_the_next_read_starts()
    {
        var calls = 0;
        var keeping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var coalescer = new ReadCoalescer<string, int>("test read", async (_, ct) =>
        {
            if (Interlocked.Increment(ref calls) > 1) return 9;
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                await keeping.Task; // keeps what it completed, past its deadline
                throw;
            }
            return 0;
        }, TimeSpan.FromMilliseconds(100), finishAfterDeadline: TimeSpan.FromSeconds(20));

        // Its callers are answered at the deadline; a caller arriving meanwhile waits for the keep, then its own read.
        Assert.Equal(9, await NextReadAfterACutOffAsync(coalescer, () => Volatile.Read(ref calls), keeping.SetResult));
        Assert.Equal(2, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task A_read_cut_off_that_never_finishes_holds_the_next_read_back_only_for_its_bound()
    {
        var calls = 0;
        var coalescer = new ReadCoalescer<string, int>("test read", async (_, _) =>
        {
            if (Interlocked.Increment(ref calls) == 1) await Task.Delay(Timeout.Infinite, CancellationToken.None); // never finishes
            return 4;
        }, TimeSpan.FromMilliseconds(100), finishAfterDeadline: TimeSpan.FromMilliseconds(700));

        Assert.Equal(4, await NextReadAfterACutOffAsync(coalescer, () => Volatile.Read(ref calls), release: () => { })); // held back for the bound, no longer
    }

    /// <summary>
    /// The first read of a key is cut off by its deadline; a caller arriving then is not read for 200 ms later (the cut-off
    /// read is finishing), and is answered once <paramref name="release"/> (or the bound) lets it.
    /// </summary>
    private static async Task<int> NextReadAfterACutOffAsync(ReadCoalescer<string, int> coalescer, Func<int> calls, Action release)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await Assert.ThrowsAsync<TimeoutException>(() => coalescer.ReadAsync("org", default).WaitAsync(guard.Token));
        var next = coalescer.ReadAsync("org", default);
        await Task.Delay(200, guard.Token);
        Assert.Equal(1, calls());
        release();
        return await next.WaitAsync(guard.Token);
    }

    [Fact]
    public async Task A_read_cancelled_by_its_deadline_answers_a_timeout()
    {
        var coalescer = new ReadCoalescer<string, int>("test read", async (_, ct) => { await Task.Delay(Timeout.Infinite, ct); return 0; }, TimeSpan.FromMilliseconds(100));
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        await Assert.ThrowsAsync<TimeoutException>(() => coalescer.ReadAsync("org", default).WaitAsync(guard.Token));
    }

    [Fact]
    public async Task A_read_that_throws_before_it_starts_fails_its_callers_and_frees_its_key()
    {
        var calls = 0;
        var coalescer = new ReadCoalescer<string, int>("test read",
            (_, _) => Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("no client") : Task.FromResult(5), TimeSpan.FromSeconds(30));
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        await Assert.ThrowsAsync<InvalidOperationException>(() => coalescer.ReadAsync("org", default).WaitAsync(guard.Token));
        Assert.Equal(5, await coalescer.ReadAsync("org", default).WaitAsync(guard.Token));
    }
}
