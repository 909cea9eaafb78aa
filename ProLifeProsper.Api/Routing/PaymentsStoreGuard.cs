using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ProLifeProsper.Api.Errors;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.PostgreSql;

namespace ProLifeProsper.Api.Routing;

/// <summary>
/// A start-up check that the store the persisted phase names as the payments' home still has them. PostgreSQL keeps the
/// phase; if it says DynamoDB holds the payments but DynamoDB's table is missing or empty while PostgreSQL has payments
/// (a local DynamoDB that lost its data, a table recreated by hand, the wrong endpoint), serving would answer 404 for real
/// payments and take a retried Idempotency-Key as new: a double charge. Until the check has passed, payment requests in
/// a DynamoDB phase are refused with a 503 that says what happened and how to recover; readiness (<c>/health</c>) says so too.
/// </summary>
public sealed class PaymentsStoreGuard(RoutingStateCache routing, PostgreSqlPaymentTransactionStore postgres, DynamoDbPaymentTransactionStore dynamo,
    ILogger<PaymentsStoreGuard> logger) : BackgroundService, IHealthCheck
{
    public const string LostCode = "payments-store-lost";
    private const string CheckingCode = "payments-store-unchecked";

    private volatile string? _lost;
    private volatile bool _checked;

    /// <summary>Throws a 503 unless payments may be served in <paramref name="state"/>.</summary>
    public void ThrowIfUnsafe(RoutingState state)
    {
        if (!state.Phase.DynamoIsPrimary()) return;
        if (_lost is { } lost) throw new ServiceUnavailableException(LostCode, "The payments store has lost its data.", lost);
        if (!_checked)
            throw new ServiceUnavailableException(CheckingCode, "The payments store is being checked.",
                "This instance has not yet confirmed that DynamoDB holds the payments (is it reachable?); retry shortly.");
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_lost is { } lost ? HealthCheckResult.Unhealthy(lost) : HealthCheckResult.Healthy());

    /// <summary>Checks before the API serves (if the stores answer); otherwise keeps trying in the background.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await CheckAsync(timeout.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Could not check the payments store at start-up; payment requests in a DynamoDB phase wait for it");
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_checked) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CheckAsync(stoppingToken);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Could not check the payments store yet; retrying");
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        var state = routing.Current;
        if (state.Phase.DynamoIsPrimary() && await postgres.AnyAsync(cancellationToken) && !await HasPaymentsAsync(cancellationToken))
        {
            var inPostgres = await postgres.CountAsync(cancellationToken);
            _lost = state.Phase == MigrationPhase.DynamoPrimary
                ? $"The routing phase is 'dynamo-primary', but DynamoDB's payments table is missing or empty while PostgreSQL holds {inPostgres} payments " +
                  "(did the local DynamoDB lose its data?). Payment requests are refused so none is answered from, or written to, an empty store. " +
                  "PostgreSQL, the shadow, has every payment: roll back (POST /api/admin/migration/rollback) to serve them from PostgreSQL, then migrate again."
                : $"The routing phase is 'dynamo-only', but DynamoDB's payments table is missing or empty while PostgreSQL holds {inPostgres} payments " +
                  "(did the local DynamoDB lose its data, or is DynamoDb:TablePrefix or the endpoint wrong?). Payment requests are refused. If DynamoDB's data " +
                  "can be restored, restore it and restart; otherwise roll back (POST /api/admin/migration/rollback): PostgreSQL has every payment made before " +
                  "the migration was finalized, and those made since exist only in the lost DynamoDB data.";
            logger.LogCritical("{Problem}", _lost);
        }
        _checked = true;
    }

    private async Task<bool> HasPaymentsAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await dynamo.HasAnyPaymentAsync(cancellationToken);
        }
        catch (ResourceNotFoundException)
        {
            return false;
        }
    }
}
