using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Api.PaymentMigration;

/// <summary>What the reconciler sees: where payments should be, whether they are there, its next step and what that waits for.</summary>
public sealed record ReconcilerStatus(bool Enabled, string Target, DateTimeOffset? TargetSince, bool Reached, string? NextStep, string? WaitingFor,
    string? LastOutcome, DateTimeOffset? LastStepAt);

/// <summary>
/// <c>Routing:Configuration</c> as desired state: each replica started with the reconciler on records its configuration as
/// where payments should live (the last one started wins, so during a rolling restart old replicas do not fight the new
/// one). When the persisted phase is not there, one instance at a time (the <c>routing-reconciler</c> lease) takes the migration's next step, by the same
/// <see cref="MigrationCoordinator"/> calls an operator makes, so every gate holds (a complete backfill, a clean verification in
/// the current phase, an empty outbox before a cut-over, the reverse copy before a rollback from <c>dynamo-only</c>). A step
/// refused because its gate is not met yet is retried at the next interval; nothing is forced. Toward DynamoDB: start →
/// (backfill, by its worker) → verify → cut over → finalize after <c>Routing:FinalizeAfter</c> (unset: stay in
/// <c>dynamo-primary</c>). Toward PostgreSQL: roll back. Everything it decides follows from the persisted state, so it survives
/// the restart of any instance and another one carries on. <c>Routing:AutoMigrate=false</c> pauses it.
/// </summary>
public sealed class MigrationReconciler(
    WorkerLeases leases,
    RoutingStateRepository repository,
    RoutingStateCache routing,
    RoutingConfiguration configuration,
    MigrationCoordinator migration,
    Backfill backfill,
    MigrationVerifier verifier,
    MigrationMetrics metrics,
    IOptions<RoutingOptions> options,
    TimeProvider time,
    ILogger<MigrationReconciler> logger) : SingleInstanceJob(leases, logger)
{
    public const string By = "reconciler";

    private enum Step { None, Start, Verify, Cutover, Finalize, Rollback }

    private (string Outcome, DateTimeOffset At)? _last;

    protected override string LeaseName => "routing-reconciler";

    protected override TimeSpan LeaseDuration => TimeSpan.FromMinutes(2);

    protected override TimeSpan Interval => options.Value.ReconcileInterval;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // After the routing state is loaded (registered after RoutingStateCache, so started after it).
        if (options.Value.AutoMigrate) await repository.RecordDesiredAsync(configuration.Name, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>What the reconciler would do now and why, from the persisted state (any instance can answer).</summary>
    public async Task<ReconcilerStatus> DescribeAsync(CancellationToken cancellationToken)
    {
        var desired = await repository.ReadDesiredAsync(cancellationToken);
        var (step, waitingFor) = await DecideAsync(cancellationToken);
        return new ReconcilerStatus(options.Value.AutoMigrate, Target(desired).Name, desired?.At, step == Step.None && waitingFor is null,
            step == Step.None ? null : Name(step), waitingFor, _last?.Outcome, _last?.At);
    }

    private RoutingConfiguration Target((string Configuration, DateTimeOffset At)? desired) =>
        desired is { } recorded && RoutingConfiguration.Find(recorded.Configuration) is { } found ? found : configuration;

    protected override async Task<bool> HasWorkAsync(CancellationToken cancellationToken)
    {
        var desired = await repository.ReadDesiredAsync(cancellationToken);
        var (step, waitingFor) = await DecideAsync(cancellationToken);
        metrics.ObserveReconciler(step == Step.None && waitingFor is null, Target(desired).Name, routing.Current.Phase.ToWire());
        return options.Value.AutoMigrate && step != Step.None;
    }

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        // Step after step while each goes through; a step that must wait ends this turn (the next interval tries again).
        for (var steps = 0; steps < 10 && await RenewAsync(cancellationToken); steps++)
        {
            await routing.RefreshAsync(cancellationToken);
            var (step, _) = await DecideAsync(cancellationToken);
            if (step == Step.None) return;
            logger.LogInformation("Reconciler: payments should be on {Target}, phase is {Phase}: {Step}",
                Target(await repository.ReadDesiredAsync(cancellationToken)).Name, routing.Current.Phase.ToWire(), Name(step));
            try
            {
                var outcome = await TakeAsync(step, cancellationToken);
                Record($"{Name(step)}: {outcome}");
                logger.LogInformation("Reconciler: {Step} done ({Outcome}); phase is {Phase}", Name(step), outcome, routing.Current.Phase.ToWire());
            }
            catch (DomainException e) when (e.Kind == DomainErrorKind.Conflict)
            {
                // A gate not met yet (DynamoDB not reachable, writes still queued, the phase moved): wait and look again.
                Record($"{Name(step)} waits: {e.Message}");
                logger.LogInformation("Reconciler: {Step} waits: {Detail}", Name(step), e.Message);
                return;
            }
        }
    }

    private async Task<string> TakeAsync(Step step, CancellationToken cancellationToken)
    {
        switch (step)
        {
            case Step.Start:
                await migration.StartAsync(By, cancellationToken);
                return "dual-write; the backfill copies history";
            case Step.Verify:
                var result = await migration.VerifyAsync(By, cancellationToken);
                if (!result.Clean)
                    logger.LogWarning("Reconciler: verification found {Mismatches} mismatches and {Pending} pending writes; verifying again later",
                        result.Mismatches.Count, result.PendingOutbox);
                return result.Clean ? "clean" : $"{result.Mismatches.Count} mismatches, {result.PendingOutbox} pending";
            case Step.Cutover:
                await migration.CutoverAsync(By, cancellationToken);
                return "payments on DynamoDB; PostgreSQL still receives every write";
            case Step.Finalize:
                await migration.FinalizeAsync(By, cancellationToken);
                return "dynamo-only";
            case Step.Rollback:
                var rollback = await migration.RollbackAsync(By, cancellationToken);
                return rollback.Finished ? "payments on PostgreSQL" : "copying DynamoDB back to PostgreSQL";
            default:
                return "nothing";
        }
    }

    private async Task<(Step Step, string? WaitingFor)> DecideAsync(CancellationToken cancellationToken)
    {
        var state = routing.Current;
        var target = Target(await repository.ReadDesiredAsync(cancellationToken));
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
                return (Step.Start, null);
            case MigrationPhase.DualWrite or MigrationPhase.Backfill:
                var progress = await backfill.ReadProgressAsync(cancellationToken);
                return progress.IsComplete ? (Step.Verify, null) : (Step.None, $"the backfill ({progress.Copied:N0} of {progress.Total:N0} payments copied)");
            case MigrationPhase.Verify:
                var last = await verifier.LastAsync(cancellationToken);
                return last is { Clean: true } && last.RoutingVersion == state.Version ? (Step.Cutover, null) : (Step.Verify, null);
            case MigrationPhase.DynamoPrimary when state.FinalizedAt is not null:
                // Someone rolled back from dynamo-only: that finishes first (the reconciler then migrates again, as configured).
                return (Step.None, "a rollback under way (the reverse copy finishes it)");
            case MigrationPhase.DynamoPrimary:
                if (options.Value.FinalizeAfter is not { } soak) return (Step.None, null);
                var soaked = UtcClock.Now(time) - state.ChangedAt;
                return soaked >= soak ? (Step.Finalize, null) : (Step.None, $"the soak in dynamo-primary ({soaked:hh\\:mm\\:ss} of {soak:hh\\:mm\\:ss}) before finalizing");
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
        _ => "none",
    };
}
