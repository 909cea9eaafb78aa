using System.Diagnostics;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Infrastructure.Telemetry;

namespace ProLifeProsper.Api.Routing;

/// <summary>
/// This instance's view of the routing state, re-read every <see cref="RoutingStateOptions.RoutingPollInterval"/>
/// (so every replica obeys a change within about that long, without a restart) and at once whenever a write
/// finds its version stale. Reads may act on a view that is one poll old; writes never do: they are checked
/// against the current version inside their own transaction.
/// </summary>
public sealed class RoutingStateCache(RoutingStateRepository repository, RoutingConfiguration configuration,
    IOptions<RoutingStateOptions> options, IOptions<RoutingOptions> routingOptions, ILogger<RoutingStateCache> logger) : BackgroundService
{
    private volatile RoutingState? _current;
    private long _readStartedAt; // Stopwatch timestamp taken before the read that produced _current
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The state last read. Available once the API has started (start-up loads it before serving).</summary>
    public RoutingState Current => _current ?? throw new InvalidOperationException("Routing state not loaded yet.");

    /// <summary>The phase a fresh database starts in: the static <c>Routing:Configuration</c>.</summary>
    public MigrationPhase InitialPhase => configuration.PaymentsStore == PaymentsStoreKind.DynamoDb ? MigrationPhase.DynamoOnly : MigrationPhase.Postgres;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await repository.EnsureAsync(InitialPhase, cancellationToken);
        var state = await RefreshAsync(cancellationToken);
        if (state.Phase.DynamoIsPrimary() != InitialPhase.DynamoIsPrimary())
        {
            // The persisted phase wins over static configuration, so replicas never disagree; the reconciler moves payments.
            if (routingOptions.Value.AutoMigrate)
                logger.LogInformation("Routing:Configuration is '{Configuration}' and this database's payments are in phase '{Phase}' (v{Version}): " +
                    "the reconciler moves them online, step by step (GET /api/admin/migration shows where it is; Routing:AutoMigrate=false pauses it).",
                    configuration.Name, state.Phase.ToWire(), state.Version);
            else
                logger.LogWarning("Routing:Configuration is '{Configuration}', but this database's payments are in phase '{Phase}' (v{Version}). " +
                    "The persisted phase wins and Routing:AutoMigrate is off; move payments with the migration (POST /api/admin/migration/start … cutover, or rollback).",
                    configuration.Name, state.Phase.ToWire(), state.Version);
        }
        await base.StartAsync(cancellationToken);
    }

    /// <summary>
    /// The state a payment write may act on: the one held, if it was read less than <see cref="RoutingStateOptions.RoutingLease"/>
    /// ago, otherwise read again now (a failure to read refuses the write).
    /// </summary>
    public async ValueTask<RoutingState> CurrentForWriteAsync(CancellationToken cancellationToken) =>
        Stopwatch.GetElapsedTime(Interlocked.Read(ref _readStartedAt)) < options.Value.RoutingLease ? Current : await RefreshAsync(cancellationToken);

    public async Task<RoutingState> RefreshAsync(CancellationToken cancellationToken)
    {
        // Freshness counts from before the read: the state cannot be older than that, however long the read took.
        var startedAt = Stopwatch.GetTimestamp();
        var state = await repository.ReadAsync(cancellationToken);
        var previous = _current;
        if (previous is null || state.Version >= previous.Version) _current = state;
        if (startedAt > Interlocked.Read(ref _readStartedAt)) Interlocked.Exchange(ref _readStartedAt, startedAt);
        if (previous is not null && previous.Version != state.Version)
            logger.LogInformation("Routing changed: {From} (v{FromVersion}) -> {To} (v{ToVersion})", previous.Phase.ToWire(), previous.Version, state.Phase.ToWire(), state.Version);
        _loaded.TrySetResult();
        return state;
    }

    /// <summary>Adopts a state this instance just wrote (the operator's own change takes effect here at once).</summary>
    public void Adopt(RoutingState state)
    {
        if (_current is null || state.Version > _current.Version) _current = state;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RoutingPollInterval);
        using var quiet = BackgroundTracing.Quiet(); // twice a second on every replica: a change is logged, not traced
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Could not re-read the routing state; keeping v{Version}", _current?.Version);
            }
        }
    }
}
