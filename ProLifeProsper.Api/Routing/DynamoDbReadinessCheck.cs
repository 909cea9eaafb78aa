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
/// Results are kept for a few seconds (DescribeTable has a low request limit; probes come every few seconds per replica).
/// </summary>
public sealed class DynamoDbReadinessCheck(RoutingStateCache routing, IServiceProvider services, IOptions<DynamoDbOptions> options, TimeProvider time)
    : IHealthCheck
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private (long At, IReadOnlyList<string> Problems)? _last;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var phase = routing.Current.Phase;
        if (phase == MigrationPhase.Postgres) return HealthCheckResult.Healthy("DynamoDB holds no payments in this phase.");

        IReadOnlyList<string> problems;
        if (_last is { } last && time.GetElapsedTime(last.At) < CacheFor) problems = last.Problems;
        else _last = (time.GetTimestamp(), problems = await ReadProblemsAsync(cancellationToken));
        if (problems.Count == 0) return HealthCheckResult.Healthy();
        var sentence = $"DynamoDB is not ready: {string.Join("; ", problems)}. " +
            "Create or fix the tables (dotnet run --project ProLifeProsper.Operator -- create-dynamodb-tables, or DynamoDb:CreateTablesOnStartup=true), " +
            "or wait for an index being built to become ACTIVE.";
        return phase.DynamoIsPrimary() ? HealthCheckResult.Unhealthy(sentence) : HealthCheckResult.Degraded(sentence);
    }

    private async Task<IReadOnlyList<string>> ReadProblemsAsync(CancellationToken cancellationToken)
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
            catch (Exception e) when (e is AmazonDynamoDBException or HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                problems.Add($"DynamoDB did not answer ({e.GetType().Name})");
            }
        }
        return problems;
    }
}
