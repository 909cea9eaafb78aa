using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Api.StoreMigration;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.Infrastructure.Leases;

namespace ProLifeProsper.Api.Tests.Migration;

/// <summary>A backfill a test drives itself, with its DynamoDB requests passing through a handler the test controls.</summary>
internal static class BackfillHarness
{
    /// <summary>Takes the backfill lease for the test, so the API's own worker leaves the copying to it.</summary>
    public static async Task HoldLeaseAsync(ApiFactory factory) =>
        Assert.True(await new WorkerLeases(factory.Services.GetRequiredService<NpgsqlDataSource>())
            .TryAcquireAsync(Backfill.LeaseName, TimeSpan.FromMinutes(10), default));

    /// <summary>A Backfill of the API's services whose DynamoDB requests pass through <paramref name="handler"/>.</summary>
    public static Backfill Through(ApiFactory factory, BetweenStepsHandler handler, MigrationOptions? settings = null)
    {
        var services = factory.Services;
        var options = services.GetRequiredService<IOptions<DynamoDbOptions>>();
        var client = DynamoDbClientFactory.Create(options.Value, handler.ClientFactory);
        var dynamo = new DynamoDbPaymentTransactionStore(client, new DynamoDbCaller(null, options), options);
        return new Backfill(services.GetRequiredService<NpgsqlDataSource>(), services.GetRequiredService<PostgreSqlPaymentTransactionStore>(),
            dynamo, services.GetRequiredService<RoutingStateCache>(),
            settings is null ? services.GetRequiredService<IOptions<MigrationOptions>>() : Options.Create(settings),
            services.GetRequiredService<MigrationMetrics>(), TimeProvider.System, NullLogger<Backfill>.Instance);
    }
}
