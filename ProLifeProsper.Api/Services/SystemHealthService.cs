using System.Diagnostics;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Options;
using Npgsql;
using ProLifeProsper.Api.StoreMigration;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.Instrumentation;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.Apis.Contracts;

namespace ProLifeProsper.Api.Services;

/// <summary>
/// The operator's view (<c>GET /api/admin/health</c>): routing, a live round trip to each database, and the
/// payment stores' figures from traffic since start-up. DynamoDB is "not_configured" when no route uses it.
/// </summary>
public sealed class SystemHealthService(
    MigrationCoordinator migration,
    NpgsqlDataSource postgres,
    IServiceProvider services,
    IOptions<DynamoDbOptions> dynamoOptions,
    StoreMetrics metrics,
    Refunds.RefundPayouts payouts)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    public async Task<SystemHealth> CheckAsync(CancellationToken cancellationToken)
    {
        var routing = await migration.GetRoutingAsync(cancellationToken);
        var usesDynamo = routing.Phase != MigrationPhase.Postgres.ToWire();
        var postgresProbe = ProbeAsync(async ct =>
        {
            await using var command = postgres.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(ct);
        }, cancellationToken);
        var dynamoProbe = usesDynamo
            ? ProbeAsync(ct => services.GetRequiredService<IAmazonDynamoDB>().DescribeTableAsync(
                new DescribeTableRequest { TableName = dynamoOptions.Value.TransactionsTableName }, ct), cancellationToken)
            : Task.FromResult(new DatabaseHealth("not_configured", null));

        var databases = new Dictionary<string, DatabaseHealth>
        {
            [PostgreSqlPaymentTransactionStore.StoreName] = await postgresProbe,
            [DynamoDbPaymentTransactionStore.StoreName] = await dynamoProbe,
        };
        var performance = new Dictionary<string, StorePerformance> { [PostgreSqlPaymentTransactionStore.StoreName] = metrics.Snapshot(PostgreSqlPaymentTransactionStore.StoreName) };
        if (usesDynamo) performance[DynamoDbPaymentTransactionStore.StoreName] = metrics.Snapshot(DynamoDbPaymentTransactionStore.StoreName);

        var healthy = databases.Values.All(d => d.Status is "healthy" or "not_configured");
        return new SystemHealth(healthy ? "healthy" : "unhealthy", new RoutingHealth(routing.Configuration, routing.PaymentsStore), databases, performance,
            await RefundPayoutsAsync(cancellationToken));
    }

    // Null when PostgreSQL does not answer (its probe above says so): the health answer itself must not fail.
    private async Task<RefundPayoutHealth?> RefundPayoutsAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            var (owed, failing) = await payouts.CountAsync(timeout.Token);
            return new RefundPayoutHealth(owed, failing);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }

    private static async Task<DatabaseHealth> ProbeAsync(Func<CancellationToken, Task> probe, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await probe(timeout.Token);
            return new DatabaseHealth("healthy", Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 2));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new DatabaseHealth("unhealthy", null, e.GetType().Name);
        }
    }
}
