using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using HdrHistogram;
using ProLifeProsper.Api.Infrastructure.Telemetry;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Api.Apis.Contracts;

namespace ProLifeProsper.Api.Storage.Instrumentation;

/// <summary>
/// Store telemetry: OpenTelemetry instruments (exported to the Aspire dashboard) and running totals since
/// start-up per store, for <c>GET /api/admin/health</c>.
/// </summary>
public sealed class StoreMetrics
{

    private readonly Histogram<double> _duration;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _throttled;
    private readonly Counter<double> _consumedCapacity;
    private readonly Counter<long> _aggregateReadsCutOff;
    private readonly ConcurrentDictionary<string, StoreTotals> _totals = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly long _startedAt;

    public StoreMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        var meter = meterFactory.Create(ApiTelemetry.Name);
        _duration = meter.CreateHistogram<double>("prolifeprosper.store.operation.duration", "s", "Duration of payment store operations.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
        _errors = meter.CreateCounter<long>("prolifeprosper.store.errors", "{error}", "Store operations that failed.");
        _retries = meter.CreateCounter<long>("prolifeprosper.store.retries", "{retry}", "Store calls retried after a transient failure.");
        _throttled = meter.CreateCounter<long>("prolifeprosper.store.throttled", "{request}", "Store calls refused for exceeding throughput.");
        _consumedCapacity = meter.CreateCounter<double>("prolifeprosper.store.consumed_capacity", "{capacity_unit}", "Capacity units consumed, as the store reports them.");
        _aggregateReadsCutOff = meter.CreateCounter<long>("prolifeprosper.store.aggregates.reads_cut_off", "{read}",
            "Reads of a range of payments for kept totals cut off before they finished (a deadline or a failure); tagged with whether any of their slices were complete (those are kept for the next read, best effort).");
        _time = time;
        _startedAt = time.GetTimestamp();
    }

    /// <summary>A read of a range of payments for kept totals was cut off; <paramref name="slicesComplete"/> of its slices were complete.</summary>
    public void RecordAggregateReadCutOff(string store, int slicesComplete) =>
        _aggregateReadsCutOff.Add(1, new TagList { { "store", store }, { "progress", slicesComplete > 0 ? "some" : "none" } });

    /// <summary>Runs one store call inside a trace span and records its duration and outcome.</summary>
    public async Task<T> MeasureAsync<T>(string store, string operation, Func<Task<T>> call)
    {
        using var activity = ApiTelemetry.ActivitySource.StartActivity($"{store} {operation}", ActivityKind.Client);
        activity?.SetTag("db.system.name", store == "dynamodb" ? "aws.dynamodb" : "postgresql");
        activity?.SetTag("db.operation.name", operation);
        var started = Stopwatch.GetTimestamp();
        var failed = false;
        try
        {
            return await call();
        }
        catch (ProLifeProsper.Domain.Common.DomainException e)
        {
            // A broken rule (conflict, reused key) is an answer, not a store failure.
            activity?.SetTag("prolifeprosper.outcome", e.Code);
            throw;
        }
        catch (Exception e) when (e is not StaleRoutingException)
        {
            failed = true;
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
        finally
        {
            RecordOperation(store, operation, Stopwatch.GetElapsedTime(started), failed);
        }
    }

    public void RecordOperation(string store, string operation, TimeSpan elapsed, bool failed)
    {
        var tags = new TagList { { "store", store }, { "operation", operation }, { "outcome", failed ? "error" : "ok" } };
        _duration.Record(elapsed.TotalSeconds, tags);
        var totals = Totals(store);
        lock (totals)
        {
            totals.Latency.RecordValue(Math.Clamp(elapsed.Ticks / 10, 1, MaxLatencyMicroseconds)); // microseconds; a longer call counts as the longest tracked
            totals.Operations++;
        }
        if (failed)
        {
            Interlocked.Increment(ref totals.Errors);
            _errors.Add(1, new TagList { { "store", store }, { "operation", operation } });
        }
    }

    public void RecordRetry(string store, string operation, bool throttled)
    {
        var tags = new TagList { { "store", store }, { "operation", operation } };
        _retries.Add(1, tags);
        Interlocked.Increment(ref Totals(store).Retries);
        if (!throttled) return;
        _throttled.Add(1, tags);
        Interlocked.Increment(ref Totals(store).Throttled);
    }

    public void RecordConsumedCapacity(string store, string table, double readUnits, double writeUnits)
    {
        var totals = Totals(store);
        if (readUnits > 0)
        {
            _consumedCapacity.Add(readUnits, new TagList { { "store", store }, { "table", table }, { "kind", "read" } });
            lock (totals) totals.ConsumedRead += readUnits;
        }
        if (writeUnits > 0)
        {
            _consumedCapacity.Add(writeUnits, new TagList { { "store", store }, { "table", table }, { "kind", "write" } });
            lock (totals) totals.ConsumedWrite += writeUnits;
        }
    }

    /// <summary>Figures since start-up for one store.</summary>
    public StorePerformance Snapshot(string store)
    {
        var totals = Totals(store);
        var uptime = _time.GetElapsedTime(_startedAt).TotalSeconds;
        long operations;
        double mean = 0, p99 = 0, read, write;
        // One lock for the histogram and its count: HdrHistogram's readers throw when the histogram changes under them
        // (that made the health answer a 500 on a busy instance), and an empty histogram's mean is NaN.
        lock (totals)
        {
            operations = totals.Operations;
            if (operations > 0) (mean, p99) = (totals.Latency.GetMean(), totals.Latency.GetValueAtPercentile(99));
            (read, write) = (totals.ConsumedRead, totals.ConsumedWrite);
        }
        return new StorePerformance(
            operations,
            uptime > 0 ? Math.Round(operations / uptime, 2) : 0,
            Math.Round(mean / 1000.0, 3),
            Math.Round(p99 / 1000.0, 3),
            Interlocked.Read(ref totals.Errors),
            Interlocked.Read(ref totals.Retries),
            Interlocked.Read(ref totals.Throttled),
            Math.Round(read, 1),
            Math.Round(write, 1));
    }

    private const long MaxLatencyMicroseconds = 60_000_000;

    private StoreTotals Totals(string store) => _totals.GetOrAdd(store, _ => new StoreTotals());

    private sealed class StoreTotals
    {
        // Microseconds from 1 µs to 1 minute, 3 significant digits; guarded by the lock on this object.
        public readonly LongHistogram Latency = new(1, MaxLatencyMicroseconds, 3);
        public long Operations;
        public long Errors;
        public long Retries;
        public long Throttled;
        public double ConsumedRead;
        public double ConsumedWrite;
    }
}
