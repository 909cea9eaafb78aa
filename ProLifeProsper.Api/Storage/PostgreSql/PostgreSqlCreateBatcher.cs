using System.Threading.Channels;
using Npgsql;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Storage.PostgreSql;

/// <summary>
/// Group commit for payment creation: creates that arrive while a batch is being written wait for the next one,
/// and each batch is one multi-row statement (idempotency records, payments and outbox rows together) in one
/// transaction, the way TigerBeetle batches transfers. It runs the very statement a single create runs
/// (<see cref="PostgreSqlCreateStatement"/>), with more rows; nothing is acknowledged before its batch commits.
/// Batches form naturally (no waiting for stragglers), so a lone request pays no extra latency.
/// One writer: while its batch is in flight the next one gathers, so every statement carries as many rows as there
/// are waiting requests (measured: one writer 9,400–9,900 creates/s, two 9,200, four 9,000 — docs/performance.md).
/// </summary>
public sealed class PostgreSqlCreateBatcher : IAsyncDisposable
{
    public const int MaxBatch = 128;
    private const int Writers = 1;

    private readonly NpgsqlDataSource _dataSource;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Task[] _writers;

    /// <summary>Creates written each on its own beside the writer (see <see cref="WriterKeyLockTimeout"/>), by this many at once:
    /// each may hold a connection for the whole lock time-out.</summary>
    private const int AsideWriters = 8;

    private readonly Channel<Pending> _aside = Channel.CreateUnbounded<Pending>();
    private readonly Task[] _asideWriters;

    private sealed record Pending(PaymentTransaction Payment, IdempotencyRecord Record, PostgreSqlWriteGuard? Guard, TaskCompletionSource<CreateResult> Done);

    public PostgreSqlCreateBatcher(NpgsqlDataSource dataSource)
    {
        _dataSource = dataSource;
        _writers = Enumerable.Range(0, Writers).Select(_ => Task.Run(WriteLoopAsync)).ToArray();
        _asideWriters = Enumerable.Range(0, AsideWriters).Select(_ => Task.Run(WriteAsideLoopAsync)).ToArray();
    }

    public Task<CreateResult> CreateAsync(PaymentTransaction payment, IdempotencyRecord record, PostgreSqlWriteGuard? guard, CancellationToken cancellationToken)
    {
        var pending = new Pending(payment, record, guard, new TaskCompletionSource<CreateResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(PostgreSqlCreateBatcher));
        // The caller may stop waiting, but the write itself is never abandoned half-way.
        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            // Let the work already queued on the thread pool (typically the requests the last batch just released,
            // about to create again) reach the queue first: no timer, just one turn at the back of the line.
            await Task.Yield();
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next)) batch.Add(next);
            foreach (var group in batch.GroupBy(p => p.Guard)) await WriteAsync(group.ToList(), group.Key);
        }
    }

    /// <summary>
    /// How long the writer waits for a key another transaction holds. Short: every create of the instance queues behind the
    /// writer, and such a wait normally lasts milliseconds (a racing request with the same key committing). Past it, the
    /// batch's creates are written each on its own beside the writer, with the longer <see cref="PostgreSqlCreateStatement.KeyLockTimeout"/>,
    /// so a key a stuck transaction holds (an instance frozen mid-refund) fails alone, and its retries, the charge
    /// reconciliation's included, hold the others up by this much at most.
    /// </summary>
    private static readonly TimeSpan WriterKeyLockTimeout = TimeSpan.FromMilliseconds(100);

    private async Task WriteAsync(List<Pending> items, PostgreSqlWriteGuard? guard)
    {
        try
        {
            var results = await PostgreSqlCreateStatement.ExecuteAsync(_dataSource, items.Select(p => (p.Payment, p.Record)).ToList(), guard, CancellationToken.None,
                WriterKeyLockTimeout);
            for (var i = 0; i < items.Count; i++) items[i].Done.TrySetResult(results[i]);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            foreach (var item in items) _aside.Writer.TryWrite(item);
        }
        catch (PostgresException) when (items.Count > 1)
        {
            // The server refused the statement (no row is expected to be refused: input is validated first). One bad
            // row must not fail the creates batched with it, so each is written on its own and only the bad one fails.
            foreach (var item in items) await WriteAsync([item], guard);
        }
        catch (Exception e)
        {
            foreach (var item in items) item.Done.TrySetException(e);
        }
    }

    private async Task WriteAsideLoopAsync()
    {
        await foreach (var item in _aside.Reader.ReadAllAsync())
        {
            try
            {
                item.Done.TrySetResult((await PostgreSqlCreateStatement.ExecuteAsync(_dataSource, [(item.Payment, item.Record)], item.Guard, CancellationToken.None))[0]);
            }
            catch (Exception e)
            {
                item.Done.TrySetException(e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers);
        _aside.Writer.TryComplete();
        await Task.WhenAll(_asideWriters);
    }
}
