using System.Diagnostics.Metrics;
using ProLifeProsper.Api.Infrastructure.Telemetry;

namespace ProLifeProsper.Api.StoreMigration;

/// <summary>Migration telemetry: backfill rate, outbox depth, writes mirrored, verification mismatches.</summary>
public sealed class MigrationMetrics
{
    private readonly Counter<long> _backfilled;
    private readonly Counter<long> _mirrored;
    private readonly Counter<long> _duplicatesRefused;
    private IReadOnlyDictionary<string, long> _outboxDepth = new Dictionary<string, long>();
    private int _lastMismatches;
    private (int Reached, string Target, string Phase) _reconciler = (1, "", "");

    public MigrationMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ApiTelemetry.Name);
        _backfilled = meter.CreateCounter<long>("prolifeprosper.migration.backfilled", "{payment}", "Payments copied by the backfill.");
        _mirrored = meter.CreateCounter<long>("prolifeprosper.migration.mirrored", "{write}", "Writes applied to the shadow store from the outbox.");
        _duplicatesRefused = meter.CreateCounter<long>("prolifeprosper.migration.duplicates_refused", "{payment}",
            "Copies refused because another payment already holds the idempotency key (should stay 0).");
        meter.CreateObservableGauge("prolifeprosper.migration.outbox.depth",
            () => _outboxDepth.Select(d => new Measurement<long>(d.Value, new KeyValuePair<string, object?>("target", d.Key))),
            "{row}", "Writes waiting in the outbox for the shadow store.");
        meter.CreateObservableGauge("prolifeprosper.migration.verification.mismatches", () => _lastMismatches, "{mismatch}",
            "Mismatches found by the last verification.");
        meter.CreateObservableGauge("prolifeprosper.migration.reconciler.reached",
            () => new Measurement<int>(_reconciler.Reached, new KeyValuePair<string, object?>("target", _reconciler.Target),
                new KeyValuePair<string, object?>("phase", _reconciler.Phase)),
            "{boolean}", "1 when payments are where Routing:Configuration wants them, 0 while the reconciler moves them.");
    }

    public void Backfilled(int count) => _backfilled.Add(count);

    public void Mirrored(string target) => _mirrored.Add(1, new KeyValuePair<string, object?>("target", target));

    public void DuplicateRefused() => _duplicatesRefused.Add(1);

    public void ObserveOutboxDepth(IReadOnlyDictionary<string, long> depth) => _outboxDepth = depth;

    public void Verified(int mismatches) => _lastMismatches = mismatches;

    public void ObserveReconciler(bool reached, string target, string phase) => _reconciler = (reached ? 1 : 0, target, phase);
}
