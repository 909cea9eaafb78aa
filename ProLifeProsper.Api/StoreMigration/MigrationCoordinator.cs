using Microsoft.Extensions.Options;
using Npgsql;
using ProLifeProsper.Api.Infrastructure.Leases;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Api.Infrastructure.Rows;
using ProLifeProsper.Api.Apis.Contracts;

namespace ProLifeProsper.Api.StoreMigration;

/// <summary>
/// The operator's migration steps. Each is a phase change made under the exclusive routing lock, refused with a
/// 409 that says what must happen first when it is out of order. Rollback never loses an acknowledged payment:
/// from PostgreSQL-primary phases PostgreSQL already has everything; from <c>dynamo-primary</c> the outbox brings
/// the last writes home; from <c>dynamo-only</c> everything written since is copied back first.
/// </summary>
public sealed class MigrationCoordinator(
    RoutingStateRepository repository,
    RoutingStateCache routing,
    RoutingConfiguration configuration,
    DynamoDbTableInitializer tables,
    PaymentOutbox outbox,
    OutboxDrainer drainer,
    Backfill backfill,
    MigrationVerifier verifier,
    ReverseCopy reverseCopy,
    PaymentMirror mirror,
    CutoverGate gate,
    IOptions<MigrationOptions> options,
    IOptions<RoutingStateOptions> routingStateOptions,
    IOptions<DynamoDbOptions> dynamoOptions,
    WorkerLeases leases,
    ILogger<MigrationCoordinator> logger)
{
    private const string PostgreSqlName = PostgreSqlPaymentTransactionStore.StoreName;
    private const string DynamoName = DynamoDbPaymentTransactionStore.StoreName;

    /// <summary>The routing this instance acts on now (its own view, kept current by its poll), not a fresh read: what it shows is what it does.</summary>
    public Task<RoutingStatus> GetRoutingAsync(CancellationToken cancellationToken) => Task.FromResult(Describe(routing.Current));

    public async Task<MigrationStatus> GetStatusAsync(CancellationToken cancellationToken) => new(
        await GetRoutingAsync(cancellationToken),
        await backfill.ReadProgressAsync(cancellationToken),
        await outbox.DepthAsync(cancellationToken),
        await verifier.LastAsync(cancellationToken),
        await reverseCopy.ReadProgressAsync(cancellationToken));

    /// <summary>postgres → dual-write; the backfill worker then moves it to backfill and copies history.</summary>
    public async Task<MigrationStatus> StartAsync(string by, CancellationToken cancellationToken)
    {
        Require(routing.Current.Phase == MigrationPhase.Postgres, $"A migration is already under way (phase '{routing.Current.Phase.ToWire()}'): finish it or roll it back first.");
        try
        {
            await tables.EnsureTablesAsync(cancellationToken);
        }
        catch (Exception e) when (e is Amazon.Runtime.AmazonServiceException or Amazon.Runtime.AmazonClientException || DynamoDbCaller.IsTransient(e, cancellationToken))
        {
            throw OutOfOrder($"DynamoDB is not reachable ({e.GetType().Name}): it must answer before a migration can start.");
        }
        await ChangeAsync(by, async (state, connection, transaction) =>
        {
            Require(state.Phase == MigrationPhase.Postgres, $"A migration is already under way (phase '{state.Phase.ToWire()}').");
            // A drain of the run rolled back may still have a put on its way: it could land over what this run's backfill copies.
            var landBy = await PaymentOutbox.DynamoCopiesLandByAsync(connection, transaction, cancellationToken);
            Require(landBy is null, $"A copy of the previous migration may still be on its way to DynamoDB until {landBy:O}: start again after that.");
            // Writes of the last DynamoDB phase not home yet (after a fail-over, or kept for an operator because DynamoDB lost
            // their payment): this run's backfill would put those payments back into DynamoDB at PostgreSQL's version, and the
            // drain would then take each such write for one that never landed, and drop it.
            var notHome = await PaymentOutbox.DepthAsync(connection, transaction, PostgreSqlName, cancellationToken);
            Require(notHome == 0, $"{notHome} writes of the last DynamoDB phase have not come home to PostgreSQL yet (GET /api/admin/migration: " +
                "outboxDepth.postgresql). They normally arrive within Migration:IntentGrace once DynamoDB answers; one kept for an operator says why " +
                "(SELECT id, transaction_id, last_error FROM payment_outbox WHERE target = 'postgresql'; docs/migration.md, 'DynamoDB came back " +
                "without its data'). A migration starts once they have.");
            await PaymentOutbox.AbandonDynamoCopiesAsync(connection, transaction, cancellationToken);
            await Backfill.ResetAsync(connection, transaction, cancellationToken);
            return MigrationPhase.DualWrite;
        }, cancellationToken);
        await RecordIntentAsync(by, PaymentsStoreKind.DynamoDb, cancellationToken);
        return await GetStatusAsync(cancellationToken);
    }

    /// <summary>dual-write → backfill, by the instance that runs the backfill.</summary>
    public Task EnterBackfillAsync(CancellationToken cancellationToken) =>
        ChangeAsync("backfill", (state, _, _) => Task.FromResult(state.Phase == MigrationPhase.DualWrite ? MigrationPhase.Backfill : state.Phase), cancellationToken);

    /// <summary>→ verify, then compares the stores.</summary>
    public async Task<VerificationResult> VerifyAsync(string by, CancellationToken cancellationToken)
    {
        var phase = routing.Current.Phase;
        Require(phase is MigrationPhase.DualWrite or MigrationPhase.Backfill or MigrationPhase.Verify,
            phase is MigrationPhase.Postgres ? "Start the migration first." : $"Verification compares the stores before cut-over; the phase is '{phase.ToWire()}'.");
        var progress = await backfill.ReadProgressAsync(cancellationToken);
        Require(progress.IsComplete, $"The backfill must complete first ({progress.Copied} of {progress.Total} payments copied).");
        if (phase != MigrationPhase.Verify)
        {
            await ChangeAsync(by, (state, _, _) =>
            {
                Require(state.Phase is MigrationPhase.DualWrite or MigrationPhase.Backfill or MigrationPhase.Verify, $"The phase changed to '{state.Phase.ToWire()}'.");
                return Task.FromResult(MigrationPhase.Verify);
            }, cancellationToken);
        }
        await RecordIntentAsync(by, PaymentsStoreKind.DynamoDb, cancellationToken);
        return await verifier.VerifyAsync(cancellationToken);
    }

    /// <summary>verify → dynamo-primary, only after a clean verification in the current phase, with the outbox drained (and a passing load test, when required).</summary>
    public async Task<RoutingStatus> CutoverAsync(string by, CancellationToken cancellationToken)
    {
        if (await gate.WhyNotCutoverAsync(cancellationToken) is { } notYet) throw OutOfOrder(notYet);
        var last = await verifier.LastAsync(cancellationToken);
        var state = await ChangeAsync(by, async (current, connection, transaction) =>
        {
            Require(current.Phase == MigrationPhase.Verify, current.Phase switch
            {
                MigrationPhase.Postgres => "Start the migration, let the backfill finish and verify first.",
                MigrationPhase.DualWrite or MigrationPhase.Backfill => "Verify the stores first (POST /api/admin/migration/verify).",
                _ => $"Cut-over happens from 'verify'; the phase is '{current.Phase.ToWire()}'.",
            });
            Require(last is { Clean: true } && last.RoutingVersion == current.Version,
                last is null ? "Verify the stores first." : last.Clean ? "Verify again: the phase changed since the last verification." :
                $"The last verification found {last.Mismatches.Count} mismatches and {last.PendingOutbox} pending writes: fix them and verify again.");
            // No payment write runs while the routing lock is held: bring DynamoDB fully up to date, then switch.
            await DrainWhileLockedAsync(connection, transaction, DynamoName, cancellationToken, LockedDrainBudget);
            var pending = await PaymentOutbox.DepthAsync(connection, transaction, DynamoName, cancellationToken);
            Require(pending == 0, $"{pending} writes have not reached DynamoDB yet (is it reachable? or another instance's drain holds them: its lease ends within {outbox.Lease.Duration.TotalSeconds:0} s); cut-over waits until they have.");
            return MigrationPhase.DynamoPrimary;
        }, cancellationToken);
        await RecordIntentAsync(by, PaymentsStoreKind.DynamoDb, cancellationToken);
        return Describe(state);
    }

    /// <summary>dynamo-primary → dynamo-only: PostgreSQL stops receiving payment writes.</summary>
    public async Task<RoutingStatus> FinalizeAsync(string by, CancellationToken cancellationToken)
    {
        var state = await ChangeAsync(by, (current, _, _) =>
        {
            Require(current.Phase == MigrationPhase.DynamoPrimary,
                current.Phase == MigrationPhase.DynamoOnly ? "Already finalized." : "Cut over to DynamoDB first (phase 'dynamo-primary').");
            Require(current.FinalizedAt is null, "A rollback from dynamo-only is under way (DynamoDB is being copied back): it finishes by itself; migrate again after it.");
            return Task.FromResult(MigrationPhase.DynamoOnly);
        }, cancellationToken);
        await RecordIntentAsync(by, PaymentsStoreKind.DynamoDb, cancellationToken);
        return Describe(state);
    }

    /// <summary>
    /// Any phase → postgres, with every acknowledged payment in PostgreSQL. From <c>dynamo-only</c> it is decided from the
    /// persisted state and survives anything: the phase becomes <c>dynamo-primary</c> (every new write reaches PostgreSQL
    /// again) with the reverse copy owed, and answers <see cref="RollbackResult.Finished"/> false; the reverse copy runs in
    /// the background, resumable, and finishes the rollback itself. Until it has, the switch to postgres is refused.
    /// </summary>
    public async Task<RollbackResult> RollbackAsync(string by, CancellationToken cancellationToken, bool waitForInFlight = true)
    {
        var current = await routing.RefreshAsync(cancellationToken);
        Require(current.Phase != MigrationPhase.Postgres, "Payments are already on PostgreSQL: there is nothing to roll back.");
        // A failover is for dynamo-primary only, where PostgreSQL holds everything; from dynamo-only it would need DynamoDB.
        Require(by != MigrationReconciler.FailoverBy || current is { Phase: MigrationPhase.DynamoPrimary, FinalizedAt: null },
            $"A failover rolls back from dynamo-primary only; the phase is '{current.Phase.ToWire()}'.");
        var failover = by == MigrationReconciler.FailoverBy;
        // A failover's intention is recorded with its switch, under the lock: one refused there (finalized meanwhile) must not
        // leave the target at current, or the reconciler would roll back from dynamo-only, which needs the DynamoDB that is down.
        if (!failover) await RecordIntentAsync(by, PaymentsStoreKind.PostgreSql, cancellationToken);

        if (current.Phase == MigrationPhase.DynamoOnly)
        {
            var fence = routingStateOptions.Value.DynamoOnlyFence(dynamoOptions.Value.WriteTimeout);
            current = await ChangeAsync(by, async (state, connection, transaction) =>
            {
                if (state.Phase != MigrationPhase.DynamoOnly) return state.Phase;
                await ReverseCopy.ResetAsync(connection, transaction, fence, cancellationToken);
                return MigrationPhase.DynamoPrimary;
            }, cancellationToken);
            logger.LogInformation("Rollback from dynamo-only: copying DynamoDB back to PostgreSQL after a {Fence} s fence; the rollback finishes when the copy is done",
                fence.TotalSeconds);
        }
        if (current is { Phase: MigrationPhase.DynamoPrimary, FinalizedAt: not null } && !(await reverseCopy.ReadProgressAsync(cancellationToken)).IsComplete)
            return new RollbackResult(Describe(current), Finished: false);

        var state = await ChangeAsync(by, async (locked, connection, transaction) =>
        {
            Require(locked.Phase != MigrationPhase.Postgres, "Payments are already on PostgreSQL.");
            // Finalized since this rollback looked: PostgreSQL misses the writes since, so only the reverse copy may bring them home.
            Require(locked.Phase != MigrationPhase.DynamoOnly, "The migration was finalized meanwhile: roll back again (it copies DynamoDB back to PostgreSQL first).");
            Require(locked is not { Phase: MigrationPhase.DynamoPrimary, FinalizedAt: not null } || await ReverseCopy.IsCompleteAsync(connection, transaction, cancellationToken),
                "DynamoDB is still being copied back to PostgreSQL; the rollback finishes by itself when that is done (GET /api/admin/migration).");
            if (failover)
            {
                Require(locked is { Phase: MigrationPhase.DynamoPrimary, FinalizedAt: null },
                    $"A failover rolls back from dynamo-primary only; the phase became '{locked.Phase.ToWire()}' meanwhile.");
                await repository.RecordDesiredAsync(RoutingConfiguration.Current.Name, cancellationToken, connection, transaction);
            }
            if (!locked.Phase.DynamoIsPrimary())
            {
                // PostgreSQL was the source of truth all along; the DynamoDB copy is abandoned.
                await PaymentOutbox.AbandonDynamoCopiesAsync(connection, transaction, cancellationToken);
                await Backfill.ResetAsync(connection, transaction, cancellationToken, startRun: false);
            }
            else if (waitForInFlight)
            {
                // Bring PostgreSQL up to date before it serves, for at most a few seconds: payment writes wait meanwhile, and when
                // DynamoDB is failing (the reason for many rollbacks) every row would fail slowly. What is left stays queued, and
                // PostgreSQL refuses those payments' updates and keys (409, retry) until the drainer has copied them home.
                await DrainWhileLockedAsync(connection, transaction, PostgreSqlName, cancellationToken, LockedDrainBudget);
            }
            return MigrationPhase.Postgres;
        }, cancellationToken);

        // Writes that were in flight at the switch finish in DynamoDB and are copied home by their intents;
        // until then PostgreSQL refuses updates to those payments (409, retry), so none is overwritten.
        if (!waitForInFlight) return new RollbackResult(Describe(state), Finished: true);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.RollbackDrainTimeout);
        try
        {
            while ((await outbox.DepthAsync(timeout.Token))[PostgreSqlName] > 0)
            {
                await drainer.DrainNowAsync(PostgreSqlName, timeout.Token);
                await Task.Delay(50, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Rollback answered before every in-flight write reached PostgreSQL; the outbox drainer finishes them");
        }
        return new RollbackResult(Describe(state), Finished: true);
    }

    /// <summary>Who finishes a rollback from dynamo-only once the reverse copy is done: a worker, not an intention.</summary>
    public const string ReverseCopyDone = "rollback (reverse copy done)";

    // An operator's step is their intention: the reconciler then carries on in its direction. Recorded once a step toward
    // DynamoDB has gone through (a refused one is no intention); a rollback records first, so an emergency rollback sticks.
    // The system's own callers (the reconciler, the reverse copy finishing) record nothing.
    private async Task RecordIntentAsync(string by, PaymentsStoreKind store, CancellationToken cancellationToken)
    {
        if (by is MigrationReconciler.By or ReverseCopyDone) return;
        if (await repository.ReadDesiredAsync(cancellationToken) is { } desired && RoutingConfiguration.Find(desired.Configuration)?.PaymentsStore == store) return;
        await repository.RecordDesiredAsync((store == PaymentsStoreKind.DynamoDb ? RoutingConfiguration.HighScale : RoutingConfiguration.Current).Name, cancellationToken);
    }

    // Every payment write waits on the routing lock: a drain under it gets 5 s, then the step is refused (and tried again)
    // with rows left, rather than holding writes (and donors charged a moment before) until their statements time out.
    private static readonly TimeSpan LockedDrainBudget = TimeSpan.FromSeconds(5);

    private async Task DrainWhileLockedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string target, CancellationToken cancellationToken,
        TimeSpan? budget = null)
    {
        // One row at a time, conditional writes (no batch): a failed batch would hold the rows, and with them the routing
        // lock every write waits on, for the write time-out. Rows another instance's drainer holds (leased, or locked while
        // it claims) are skipped; give them a moment, then look again: a cut-over with rows left is refused. With a budget,
        // small batches, so that the time is checked often (a row that fails can take a second of retries).
        // Each row's copy is cut off when the budget is spent (a DynamoDB that hangs rather than refuses would otherwise hold
        // the lock for its every time-out and retry) and counted as not done: it stays queued.
        using var spent = budget is { } b ? new CancellationTokenSource(b) : null;
        bool Spent() => spent?.IsCancellationRequested == true;
        Func<OutboxRow, CancellationToken, Task<OutboxOutcome>> apply = spent is null ? mirror.ApplyAsync : async (row, ct) =>
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct, spent.Token);
            try
            {
                return await mirror.ApplyAsync(row, bounded.Token);
            }
            catch (OperationCanceledException) when (spent.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                return OutboxOutcome.Retry;
            }
        };
        for (var round = 0; round < 50 && !Spent(); round++)
        {
            while (!Spent() && await outbox.DrainAsync(connection, transaction, new OutboxApply(apply), target, budget is null ? 500 : 10, cancellationToken) > 0) { }
            if (await PaymentOutbox.DepthAsync(connection, transaction, target, cancellationToken) == 0) return;
            await Task.Delay(100, cancellationToken);
        }
    }

    private async Task<RoutingState> ChangeAsync(string by, Func<RoutingState, NpgsqlConnection, NpgsqlTransaction, Task<MigrationPhase>> decide, CancellationToken cancellationToken)
    {
        // The reconciler's steps were decided before the lock, possibly before a pause in which another instance took its
        // lease over and moved on: under the lock, only the lease's holder may still act (an operator's step always may).
        var fenced = by is not (MigrationReconciler.By or MigrationReconciler.FailoverBy) ? decide : async (state, connection, transaction) =>
        {
            Require(await leases.HoldsAsync(MigrationReconciler.Lease, connection, transaction, cancellationToken),
                "This instance no longer holds the reconciler's lease: another instance drives the migration now.");
            return await decide(state, connection, transaction);
        };
        var state = await repository.ChangeAsync(fenced, by, cancellationToken);
        routing.Adopt(state);
        logger.LogInformation("Routing is now {Phase} (v{Version}), by {By}", state.Phase.ToWire(), state.Version, by);
        return state;
    }

    private RoutingStatus Describe(RoutingState state) => new(
        state.Phase switch
        {
            MigrationPhase.Postgres => configuration.PaymentsStore == PaymentsStoreKind.PostgreSql ? configuration.Name : RoutingConfiguration.Current.Name,
            MigrationPhase.DynamoPrimary or MigrationPhase.DynamoOnly => configuration.PaymentsStore == PaymentsStoreKind.DynamoDb ? configuration.Name : RoutingConfiguration.HighScale.Name,
            _ => "migrating",
        },
        state.Phase.ToWire(), state.Version, state.ChangedAt,
        state.Phase.DynamoIsPrimary() ? DynamoName : PostgreSqlName,
        state.Phase switch
        {
            MigrationPhase.DynamoPrimary => PostgreSqlName,
            MigrationPhase.DualWrite or MigrationPhase.Backfill or MigrationPhase.Verify => DynamoName,
            _ => null,
        },
        state.FinalizedAt);

    private static void Require(bool condition, string whatFirst)
    {
        if (!condition) throw OutOfOrder(whatFirst);
    }

    private static DomainException OutOfOrder(string whatFirst) =>
        new(DomainErrorKind.Conflict, "migration-step-out-of-order", "This migration step cannot run now.", whatFirst);
}
