using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Storage.DynamoDb;

namespace ProLifeProsper.Api.Routing;

/// <summary>
/// Readiness (<c>/health</c>) of DynamoDB when payments are routed to it: every table exists and matches what the code
/// expects (<see cref="DynamoDbSchemaCheck"/>); otherwise 503 with a sentence saying what is wrong and what to do. While
/// DynamoDB is only the shadow (dual-write) a problem is reported as degraded: payments are still served from PostgreSQL.
/// Results are kept for a few seconds, and one look at a time is made however many probes arrive (<c>/health</c> needs no
/// key and is not rate limited; DescribeTable has a low request limit). A throttled look keeps the last answer: a flood of
/// probes must not get a healthy instance taken out of service.
/// </summary>
public sealed class DynamoDbReadinessCheck(RoutingStateCache routing, IServiceProvider services, IOptions<DynamoDbOptions> options, TimeProvider time,
    ILogger<DynamoDbReadinessCheck> logger)
    : IHealthCheck
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LookFor = TimeSpan.FromSeconds(10);

    // How long a throttled look may keep standing on the last real answer: after that, what is true now is unknown.
    private static readonly TimeSpan TrustThrottledFor = TimeSpan.FromMinutes(1);
    private long? _lastAnswered;
    private readonly Lock _gate = new();
    private (long At, IReadOnlyList<string> Problems)? _last;
    private Task<IReadOnlyList<string>>? _looking;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var phase = routing.Current.Phase;
        if (phase == MigrationPhase.Postgres) return HealthCheckResult.Healthy("DynamoDB holds no payments in this phase.");

        IReadOnlyList<string> problems;
        Task<IReadOnlyList<string>> look;
        lock (_gate)
        {
            if (_last is { } last && time.GetElapsedTime(last.At) < CacheFor) look = Task.FromResult(last.Problems);
            else look = _looking is { IsCompleted: false } running ? running : _looking = LookAsync();
        }
        problems = await look.WaitAsync(cancellationToken);
        if (problems.Count == 0) return HealthCheckResult.Healthy();
        var sentence = $"DynamoDB is not ready: {string.Join("; ", problems)}. " +
            "Create or fix the tables (dotnet run --project ProLifeProsper.Operator -- create-dynamodb-tables, or DynamoDb:CreateTablesOnStartup=true), " +
            "or wait for an index being built to become ACTIVE.";
        return phase.DynamoIsPrimary() ? HealthCheckResult.Unhealthy(sentence) : HealthCheckResult.Degraded(sentence);
    }

    // Shared by every probe that arrives while it runs: bounded by its own time, not a probe's. Whatever happens, it ends
    // with an answer that is kept for CacheFor (a look that failed is not repeated by every probe).
    private async Task<IReadOnlyList<string>> LookAsync()
    {
        using var bounded = new CancellationTokenSource(LookFor);
        var lastKnown = _lastAnswered is { } at && time.GetElapsedTime(at) < TrustThrottledFor ? _last?.Problems : null;
        IReadOnlyList<string> problems;
        bool answered;
        try
        {
            (problems, answered) = await ReadProblemsAsync(lastKnown, bounded.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // /health answers anyone: it names the kind of failure, and the log keeps its message (hosts, tables).
            logger.LogWarning(e, "The readiness check could not ask DynamoDB");
            (problems, answered) = ([$"DynamoDB could not be asked ({e.GetType().Name}; the API's log has the details)"], true);
        }
        lock (_gate)
        {
            _last = (time.GetTimestamp(), problems);
            if (answered) _lastAnswered = _last.Value.At;
        }
        return problems;
    }

    // Answered: false when a throttle left the last real answer standing.
    private async Task<(IReadOnlyList<string> Problems, bool Answered)> ReadProblemsAsync(IReadOnlyList<string>? lastKnown, CancellationToken cancellationToken)
    {
        var dynamo = services.GetRequiredService<IAmazonDynamoDB>();
        var problems = new List<string>();
        foreach (var expected in DynamoDbTables.All(options.Value))
        {
            try
            {
                var described = await dynamo.DescribeTableAsync(new DescribeTableRequest { TableName = expected.TableName }, cancellationToken);
                problems.AddRange(DynamoDbSchemaCheck.Problems(expected, described.Table));
            }
            catch (ResourceNotFoundException)
            {
                problems.Add($"table {expected.TableName} does not exist");
            }
            catch (AmazonDynamoDBException e) when (lastKnown is not null && (DynamoDbCaller.IsThrottle(e) || e.ErrorCode == "LimitExceededException"))
            {
                return (lastKnown, false); // DynamoDB answered, only too often asked: nothing learned, nothing changed
            }
            catch (Exception e) when (e is AmazonDynamoDBException or HttpRequestException or OperationCanceledException)
            {
                problems.Add($"DynamoDB did not answer ({e.GetType().Name})");
            }
        }
        return (problems, true);
    }
}
