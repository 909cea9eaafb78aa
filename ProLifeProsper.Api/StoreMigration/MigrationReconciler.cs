using System.Diagnostics;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Api.Infrastructure.Telemetry;
using ProLifeProsper.Api.Infrastructure.Leases;
using ProLifeProsper.Api.Apis.Contracts;

namespace ProLifeProsper.Api.StoreMigration;

/// <summary>
/// Where payments should live, as desired state. The target is recorded in <c>routing_state</c> by the newest deliberate
/// intention: a replica starting with <c>Routing:Configuration</c> set explicitly and the reconciler on, or an operator's
/// migration step (start … finalize: DynamoDB; rollback: PostgreSQL). A process that merely runs with the default records
/// nothing, and a database from before this feature adopts where its payments already are. When the phase is not at the
/// target, one instance at a time (the <c>routing-reconciler</c> lease, renewed while a step runs) takes the next step with
/// the same <see cref="MigrationCoordinator"/> calls an operator makes, so every gate holds. A step refused because its gate
/// is not met, an unclean verification or a failure backs off (doubling to 2 minutes) and is tried again; nothing is forced.
/// Toward DynamoDB: start → (the backfill worker) → verify → cut over while DynamoDB keeps up with its queue → finalize
/// after <c>Routing:FinalizeAfter</c> while PostgreSQL's shadow keeps up (unset: stay in <c>dynamo-primary</c>). Toward
/// PostgreSQL: roll back. <c>Routing:AutoMigrate=false</c> pauses it.
/// </summary>
public sealed class MigrationReconciler(
    WorkerLeases leases,
    RoutingStateRepository repository,
    RoutingStateCache routing,
    RoutingConfiguration configuration,
    MigrationCoordinator migration,
    Backfill backfill,
    MigrationVerifier verifier,
    PaymentOutbox outbox,
    DynamoDbAvailabilityProbe dynamoProbe,
    MigrationMetrics metrics,
    IOptions<RoutingOptions> options,
    TimeProvider time,
    ILogger<MigrationReconciler> logger) : SingleInstanceJob(leases, logger)
{
    public const string By = "reconciler";

    /// <summary>Who rolls back when DynamoDB has failed for <see cref="RoutingOptions.FailoverAfter"/>: a recorded intention (the target becomes <c>current</c>).</summary>
    public const string FailoverBy = "failover";

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(2);

    // Writes in flight under steady traffic keep a few rows queued at any moment; more than this means the other store is
    // not keeping up, and a cut-over (which drains while holding the routing lock) or a finalize should wait.
    private const long MaxQueuedForSwitch = 500;

    private enum Step { None, Start, Verify, Cutover, Finalize, Rollback, Failover }

    private (string Outcome, DateTimeOffset At)? _last;
    private DateTimeOffset _notBefore = DateTimeOffset.MinValue;
    private int _failures;
    // As this instance's probe sees it, in dynamo-primary with failover on: since when, the last failure, failed probes in a row.
    private (DateTimeOffset Since, string What, int Probes)? _dynamoFailing;

    // A failover needs this many failed probes in a row as well as the time: one lost answer or a pause of this process is no outage.
    private const int FailedProbesForFailover = 3;

    protected override string LeaseName => Lease;

    /// <summary>The lease one instance holds while it drives the migration; its steps check it under the routing lock.</summary>
    public const string Lease = "routing-reconciler";

    protected override TimeSpan LeaseDuration => TimeSpan.FromMinutes(1);

    protected override TimeSpan Interval => options.Value.ReconcileInterval;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // After the routing state is loaded (registered after RoutingStateCache, so started after it).
        var changed = options.Value.AutoMigrate && options.Value.Configuration is not null
            && await repository.NoteStartedWithAsync(configuration.Name, cancellationToken);
        if (await repository.ReadDesiredAsync(cancellationToken) is null)
        {
            // Nothing recorded yet (a fresh database, or one from before this feature): payments stay where they are, and a
            // later deliberate intention (another configuration, an operator's step) moves them. Mid-migration, no target
            // is adopted: the operator who started it finishes or rolls it back.
            var state = routing.Current;
            RoutingConfiguration? here = state.Phase switch
            {
                MigrationPhase.Postgres => RoutingConfiguration.Current,
                MigrationPhase.DynamoPrimary when state.FinalizedAt is not null => RoutingConfiguration.Current, // a rollback under way
                MigrationPhase.DynamoPrimary or MigrationPhase.DynamoOnly => RoutingConfiguration.HighScale,
                _ => null,
            };
            if (here is not null)
                await repository.RecordDesiredAsync(here.PaymentsStore == configuration.PaymentsStore ? configuration.Name : here.Name, cancellationToken);
            if (here?.PaymentsStore != configuration.PaymentsStore && options.Value.Configuration is not null)
                logger.LogWarning("Payments are in phase {Phase}; the reconciler keeps them there although Routing:Configuration is {Configuration}. " +
                    "Take a migration step, or start with another configuration and then this one, to move them.", state.Phase.ToWire(), configuration.Name);
        }
        else if (changed)
        {
            await repository.RecordDesiredAsync(configuration.Name, cancellationToken); // a newly deployed configuration: the newest intention
        }
        await base.StartAsync(cancellationToken);
    }

    /// <summary>What the reconciler would do now and why, from the persisted state (any instance can answer).</summary>
    public async Task<ReconcilerStatus> DescribeAsync(CancellationToken cancellationToken)
    {
        var target = await TargetAsync(cancellationToken);
        var (step, waitingFor) = await DecideAsync(target.Configuration, cancellationToken);
        return new ReconcilerStatus(options.Value.AutoMigrate, target.Configuration?.Name, target.Since, step == Step.None && waitingFor is null,
            step == Step.None ? null : Name(step), waitingFor, _last?.Outcome, _last?.At);
    }

    protected override async Task<bool> HasWorkAsync(CancellationToken cancellationToken)
    {
        await ObserveDynamoAsync(cancellationToken);
        var target = await TargetAsync(cancellationToken);
        var (step, waitingFor) = await DecideAsync(target.Configuration, cancellationToken);
        metrics.ObserveReconciler(step == Step.None && waitingFor is null, target.Configuration?.Name ?? "", routing.Current.Phase.ToWire());
        // A failover does not wait out the back-off of an earlier refused step.
        return options.Value.AutoMigrate && step != Step.None && (step == Step.Failover || UtcClock.Now(time) >= _notBefore);
    }

    // Failover as policy: probes DynamoDB each interval while it is primary and PostgreSQL still holds everything.
    private async Task ObserveDynamoAsync(CancellationToken cancellationToken)
    {
        if (options.Value.FailoverAfter is null || routing.Current is not { Phase: MigrationPhase.DynamoPrimary, FinalizedAt: null })
        {
            _dynamoFailing = null;
            return;
        }
        if (await dynamoProbe.FailureAsync(cancellationToken) is not { } failure)
        {
            if (_dynamoFailing is not null) logger.LogInformation("Reconciler: DynamoDB answers again");
            _dynamoFailing = null;
            return;
        }
        if (_dynamoFailing is null) logger.LogWarning("Reconciler: DynamoDB does not answer ({Failure}); failover in {After:N0} s unless it recovers", failure, options.Value.FailoverAfter.Value.TotalSeconds);
        _dynamoFailing = (_dynamoFailing?.Since ?? UtcClock.Now(time), failure, (_dynamoFailing?.Probes ?? 0) + 1);
    }

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        // Step after step while each goes through; one that must wait ends this turn, backing off.
        for (var steps = 0; steps < 10 && await RenewAsync(cancellationToken); steps++)
        {
            await routing.RefreshAsync(cancellationToken);
            var target = await TargetAsync(cancellationToken);
            var (step, _) = await DecideAsync(target.Configuration, cancellationToken);
            if (step == Step.None) return;
            using var work = BackgroundTracing.StartWork($"reconciler {Name(step)}");
            logger.LogInformation("Reconciler: payments should be on {Target}, phase is {Phase}: {Step}", target.Configuration!.Name, routing.Current.Phase.ToWire(), Name(step));
            string outcome;
            bool wentThrough;
            try
            {
                (outcome, wentThrough) = await WhileHoldingLeaseAsync(ct => TakeAsync(step, ct), cancellationToken);
            }
            catch (DomainException e) when (e.Kind == DomainErrorKind.Conflict)
            {
                (outcome, wentThrough) = ($"waits: {e.Message}", false); // a gate not met yet
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                (outcome, wentThrough) = ($"failed ({e.GetType().Name}: {e.Message})", false);
            }
            Record($"{Name(step)} {outcome}");
            work.SetTag("prolifeprosper.outcome", outcome);
            if (!wentThrough)
            {
                var backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, Interval.Ticks << Math.Min(++_failures, 10)));
                _notBefore = UtcClock.Now(time) + backoff;
                logger.LogWarning("Reconciler: {Step} {Outcome}; trying again in {Backoff:N0} s", Name(step), outcome, backoff.TotalSeconds);
                return;
            }
            _failures = 0;
            logger.LogInformation("Reconciler: {Step} {Outcome}; phase is {Phase}", Name(step), outcome, routing.Current.Phase.ToWire());
        }
    }

    // Renews the lease while a long step runs (a verification of a large store, a drain), and stops the step if another
    // instance has taken it over; a renewal that fails (the database did not answer) is tried again at the next tick.
    private async Task<T> WhileHoldingLeaseAsync<T>(Func<CancellationToken, Task<T>> step, CancellationToken cancellationToken)
    {
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var done = new CancellationTokenSource();
        var renewing = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(LeaseDuration / 4);
            var held = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    if (!await timer.WaitForNextTickAsync(done.Token)) return;
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                try
                {
                    // Renewed only, never taken again: a lease another instance held meanwhile (and released) means this
                    // step's decision may be stale, and the step must stop.
                    if (await KeepAsync(done.Token)) { held.Restart(); continue; }
                }
                catch (Exception e) when (!done.IsCancellationRequested)
                {
                    logger.LogWarning("Reconciler: the lease could not be renewed ({Error}); trying again", e.GetType().Name);
                    if (held.Elapsed < LeaseDuration) continue;
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                await lost.CancelAsync(); // taken over, or not renewed for a whole lease: another instance may act now
                return;
            }
        }, CancellationToken.None);
        try
        {
            return await step(lost.Token);
        }
        finally
        {
            await done.CancelAsync();
            await renewing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task<(string Outcome, bool WentThrough)> TakeAsync(Step step, CancellationToken cancellationToken)
    {
        switch (step)
        {
            case Step.Start:
                await migration.StartAsync(By, cancellationToken);
                return ("done: dual-write; the backfill copies history", true);
            case Step.Verify:
                var result = await migration.VerifyAsync(By, cancellationToken);
                return result.Clean ? ("done: clean", true) : ($"found {result.Mismatches.Count} mismatches and {result.PendingOutbox} pending writes", false);
            case Step.Cutover:
                await migration.CutoverAsync(By, cancellationToken);
                return ("done: payments on DynamoDB; PostgreSQL still receives every write", true);
            case Step.Finalize:
                await migration.FinalizeAsync(By, cancellationToken);
                return ("done: dynamo-only", true);
            case Step.Rollback:
                var rollback = await migration.RollbackAsync(By, cancellationToken);
                return (rollback.Finished ? "done: payments on PostgreSQL" : "under way: copying DynamoDB back to PostgreSQL", true);
            case Step.Failover:
                // Decided on probes up to an interval old (and this instance may have paused since): asked once more first.
                if (await dynamoProbe.FailureAsync(cancellationToken) is null)
                {
                    _dynamoFailing = null;
                    return ("not needed: DynamoDB answers again", true);
                }
                var failing = _dynamoFailing!.Value;
                var down = UtcClock.Now(time) - failing.Since;
                logger.LogError("Failover: DynamoDB has not answered for {Seconds:N0} s ({Failure}); rolling back to PostgreSQL, which holds every payment, " +
                    "and setting the target to current", down.TotalSeconds, failing.What);
                // The rollback records the new target (a failover is an intention) and does not wait for writes DynamoDB cannot finish now.
                var failover = await migration.RollbackAsync(FailoverBy, cancellationToken, waitForInFlight: false);
                _dynamoFailing = null;
                return ($"done: DynamoDB had failed for {down.TotalSeconds:N0} s ({failing.What}); payments on PostgreSQL (phase {failover.Routing.Phase}) " +
                    "and the target is current (migrate again with the start step once DynamoDB is well)", true);
            default:
                return ("nothing", true);
        }
    }

    private async Task<(RoutingConfiguration? Configuration, DateTimeOffset? Since)> TargetAsync(CancellationToken cancellationToken)
    {
        var desired = await repository.ReadDesiredAsync(cancellationToken);
        if (desired is not { } recorded) return (null, null);
        var found = RoutingConfiguration.Find(recorded.Configuration);
        if (found is null) logger.LogWarning("Reconciler: the recorded target '{Target}' is not a routing configuration; doing nothing", recorded.Configuration);
        return (found, recorded.At);
    }

    private async Task<(Step Step, string? WaitingFor)> DecideAsync(RoutingConfiguration? target, CancellationToken cancellationToken)
    {
        var state = routing.Current;
        if (target is null) return (Step.None, "no target recorded: take a migration step, or start a replica with another Routing:Configuration");
        if (target.PaymentsStore != PaymentsStoreKind.DynamoDb)
        {
            if (state.Phase == MigrationPhase.Postgres) return (Step.None, null);
            if (state is { Phase: MigrationPhase.DynamoPrimary, FinalizedAt: not null })
                return (Step.None, "the reverse copy of DynamoDB to PostgreSQL, which finishes the rollback (GET /api/admin/migration: reverseCopy)");
            return (Step.Rollback, null);
        }
        switch (state.Phase)
        {
            case MigrationPhase.Postgres:
                // The start is refused while writes of the last DynamoDB phase are not home (MigrationCoordinator.StartAsync).
                var notHome = (await outbox.DepthAsync(cancellationToken)).GetValueOrDefault(PostgreSqlPaymentTransactionStore.StoreName);
                return notHome == 0 ? (Step.Start, null) : (Step.None, $"{notHome:N0} writes of the last DynamoDB phase to come home to PostgreSQL " +
                    "(within Migration:IntentGrace once DynamoDB answers; one kept for an operator says why in payment_outbox.last_error: docs/migration.md)");
            case MigrationPhase.DualWrite or MigrationPhase.Backfill:
                var progress = await backfill.ReadProgressAsync(cancellationToken);
                return progress.IsComplete ? (Step.Verify, null) : (Step.None, $"the backfill ({progress.Copied:N0} of {progress.Total:N0} payments copied)");
            case MigrationPhase.Verify:
                var last = await verifier.LastAsync(cancellationToken);
                if (last is not { Clean: true } || last.RoutingVersion != state.Version) return (Step.Verify, null);
                // The cut-over drains DynamoDB's queue while holding the routing lock: try it only while DynamoDB keeps up.
                var queued = (await outbox.DepthAsync(cancellationToken)).GetValueOrDefault(DynamoDbPaymentTransactionStore.StoreName);
                return queued <= MaxQueuedForSwitch ? (Step.Cutover, null) : (Step.None, $"{queued:N0} writes queued for DynamoDB: waiting for it to catch up before the cut-over");
            case MigrationPhase.DynamoPrimary when state.FinalizedAt is not null:
                return (Step.None, "a rollback under way (the reverse copy finishes it; the reconciler then migrates again)");
            case MigrationPhase.DynamoPrimary:
                if (_dynamoFailing is { } failing && options.Value.FailoverAfter is { } failoverAfter)
                {
                    var down = UtcClock.Now(time) - failing.Since;
                    return down >= failoverAfter && failing.Probes >= FailedProbesForFailover ? (Step.Failover, null)
                        : (Step.None, $"DynamoDB has not answered for {down.TotalSeconds:N0} s ({failing.What}): failover to PostgreSQL at {failoverAfter.TotalSeconds:N0} s");
                }
                if (options.Value.FinalizeAfter is not { } soak) return (Step.None, null);
                var soaked = UtcClock.Now(time) - state.ChangedAt;
                if (soaked < soak) return (Step.None, $"the soak in dynamo-primary ({soaked.TotalMinutes:N1} of {soak.TotalMinutes:N1} minutes) before finalizing");
                // Finalizing stops PostgreSQL's writes: its shadow must be keeping up first.
                var shadowQueued = (await outbox.DepthAsync(cancellationToken)).GetValueOrDefault(PostgreSqlPaymentTransactionStore.StoreName);
                return shadowQueued <= MaxQueuedForSwitch ? (Step.Finalize, null) : (Step.None, $"{shadowQueued:N0} writes queued for PostgreSQL: waiting for it to catch up before finalizing");
            default:
                return (Step.None, null);
        }
    }

    private void Record(string outcome) => _last = (outcome, UtcClock.Now(time));

    private static string Name(Step step) => step switch
    {
        Step.Start => "start",
        Step.Verify => "verify",
        Step.Cutover => "cut over",
        Step.Finalize => "finalize",
        Step.Rollback => "roll back",
        Step.Failover => "fail over",
        _ => "none",
    };
}
