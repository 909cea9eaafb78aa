using System.Threading.Channels;
using Npgsql;
using ProLifeProsper.Api.PaymentMigration;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Storage.PostgreSql;

/// <summary>
/// Group commit for payment creation: creates that arrive while a batch is being written wait for the next one,
/// and each batch is one multi-row statement (idempotency records, payments and outbox rows together) in one
/// transaction, the way TigerBeetle batches transfers. It runs the very statement a single create runs
/// (<see cref="PostgreSqlCreateStatement"/>), with more rows; nothing is acknowledged before its batch commits.
/// Batches form naturally (no waiting for stragglers), so a lone request pays no extra latency.
/// </summary>
public sealed class PostgreSqlCreateBatcher : IAsyncDisposable
{
    public const int MaxBatch = 128;
    private const int Writers = 2;

    private readonly NpgsqlDataSource _dataSource;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Task[] _writers;

    private sealed record Pending(PaymentTransaction Payment, IdempotencyRecord Record, PostgreSqlWriteGuard? Guard, TaskCompletionSource<CreateResult> Done);

    public PostgreSqlCreateBatcher(NpgsqlDataSource dataSource)
    {
        _dataSource = dataSource;
        _writers = Enumerable.Range(0, Writers).Select(_ => Task.Run(WriteLoopAsync)).ToArray();
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
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next)) batch.Add(next);
            foreach (var group in batch.GroupBy(p => p.Guard))
            {
                var items = group.ToList();
                try
                {
                    var results = await PostgreSqlCreateStatement.ExecuteAsync(_dataSource, items.Select(p => (p.Payment, p.Record)).ToList(), group.Key, CancellationToken.None);
                    for (var i = 0; i < items.Count; i++) items[i].Done.TrySetResult(results[i]);
                }
                catch (Exception e)
                {
                    foreach (var item in items) item.Done.TrySetException(e);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers);
    }
}
