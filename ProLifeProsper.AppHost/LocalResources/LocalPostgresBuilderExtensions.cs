using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using ProLifeProsper.LocalInfrastructure;

namespace Aspire.Hosting;

public static class LocalPostgresBuilderExtensions
{
    /// <summary>
    /// Adds PostgreSQL as a local process (no container): the cluster is initdb'd once into
    /// <paramref name="dataDirectory"/>, the server listens on a port Aspire allocates (PGPORT), and the
    /// resource is healthy once a connection opens. The database itself is created by the API's migrations.
    /// </summary>
    public static IResourceBuilder<LocalPostgresResource> AddLocalPostgres(this IDistributedApplicationBuilder builder,
        string name, string databaseName, string binDirectory, string dataDirectory)
    {
        if (builder.ExecutionContext.IsRunMode) LocalPostgresCluster.EnsureInitialized(binDirectory, dataDirectory);
        var (command, args) = LocalPostgresCluster.ServerCommand(binDirectory, dataDirectory, settings: ["fsync=on"]);
        var resource = new LocalPostgresResource(name, command, dataDirectory, databaseName);

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthCheckKey, async cancellationToken =>
        {
            try
            {
                var connectionString = await resource.ConnectionStringExpression.GetValueAsync(cancellationToken);
                var maintenance = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false, Timeout = 3 };
                await using var connection = new NpgsqlConnection(maintenance.ConnectionString);
                await connection.OpenAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                return HealthCheckResult.Unhealthy("PostgreSQL is not accepting connections yet.", e);
            }
        });

        return builder.AddResource(resource)
            .WithArgs(args)
            .WithEndpoint(name: LocalPostgresResource.PrimaryEndpointName, scheme: "tcp", env: "PGPORT", isProxied: false)
            .WithHealthCheck(healthCheckKey);
    }
}
