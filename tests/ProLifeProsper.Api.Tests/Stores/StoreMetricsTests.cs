using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using ProLifeProsper.Api.Storage.Instrumentation;

namespace ProLifeProsper.Api.Tests.Stores;

public sealed class StoreMetricsTests
{
    [Fact]
    public async Task A_snapshot_taken_while_operations_are_recorded_never_throws()
    {
        // The health endpoint reads the figures while background workers record: the histogram's enumerators refuse a
        // histogram that changes under them, which made GET /api/admin/health a 500 on a busy instance.
        var metrics = new StoreMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>(), TimeProvider.System);
        metrics.RecordOperation("postgresql", "create", TimeSpan.FromMilliseconds(1), failed: false);
        using var done = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            var i = 0;
            while (!done.IsCancellationRequested)
                metrics.RecordOperation("postgresql", "create", TimeSpan.FromTicks(10 + (i++ % 50_000)), failed: false);
        })).ToArray();

        // A fixed number of snapshots, each taken while both writers record (no time limit, no timing assertion).
        for (var snapshot = 0; snapshot < 2_000; snapshot++)
        {
            var figures = metrics.Snapshot("postgresql");
            Assert.True(figures.AverageLatencyMs > 0 && double.IsFinite(figures.AverageLatencyMs));
            Assert.True(figures.P99LatencyMs > 0);
        }
        await done.CancelAsync();
        await Task.WhenAll(writers);
    }
}
