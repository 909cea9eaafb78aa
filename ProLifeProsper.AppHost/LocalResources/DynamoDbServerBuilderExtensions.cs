using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ProLifeProsper.LocalInfrastructure;

namespace Aspire.Hosting;

public static class DynamoDbServerBuilderExtensions
{
    public const string EndpointName = "http";

    /// <summary>
    /// The <c>amazon/dynamodb-local</c> container on its port 8000, its data on a named volume: PostgreSQL keeps its data
    /// between runs, so DynamoDB must too, or a restart would lose every payment the routing phase says it holds.
    /// </summary>
    public static IResourceBuilder<ContainerResource> AddDynamoDbLocalContainer(this IDistributedApplicationBuilder builder, string name) =>
        builder.AddContainer(name, "amazon/dynamodb-local", "latest")
            .WithVolume($"prolifeprosper-{name}-data", "/home/dynamodblocal/data")
            .WithArgs("-jar", "DynamoDBLocal.jar", "-sharedDb", "-dbPath", "/home/dynamodblocal/data")
            .WithHttpEndpoint(targetPort: 8000, name: EndpointName)
            .WithListTablesHealthCheck(name);

    /// <summary>
    /// dynalite as a local node process (installed with <c>npm ci</c> from the repository's lock file when missing), its
    /// data kept in <paramref name="dataDirectory"/> between runs, beside PostgreSQL's.
    /// </summary>
    public static IResourceBuilder<ExecutableResource> AddDynalite(this IDistributedApplicationBuilder builder, string name, string repositoryRoot, string dataDirectory)
    {
        if (builder.ExecutionContext.IsRunMode)
        {
            LocalDynalite.EnsureInstalled(repositoryRoot);
            Directory.CreateDirectory(dataDirectory);
        }
        var dynalite = builder.AddExecutable(name, "node", repositoryRoot)
            .WithHttpEndpoint(name: EndpointName, env: "DYNALITE_PORT", isProxied: false);
        var endpoint = dynalite.GetEndpoint(EndpointName);
        return dynalite
            .WithArgs(context =>
            {
                foreach (var arg in LocalDynalite.ServerArguments(endpoint.Property(EndpointProperty.TargetPort), dataDirectory)) context.Args.Add(arg);
            })
            .WithListTablesHealthCheck(name);
    }

    /// <summary>
    /// Healthy once ListTables answers: dynalite's root URL needs no credentials but a real endpoint does,
    /// so the check signs a real request, as the API will.
    /// </summary>
    private static IResourceBuilder<T> WithListTablesHealthCheck<T>(this IResourceBuilder<T> builder, string name) where T : IResourceWithEndpoints
    {
        var endpoint = builder.GetEndpoint(EndpointName);
        var key = $"{name}_list_tables";
        builder.ApplicationBuilder.Services.AddHealthChecks().AddAsyncCheck(key, async cancellationToken =>
        {
            if (!endpoint.IsAllocated) return HealthCheckResult.Unhealthy("Endpoint not allocated yet.");
            try
            {
                using var client = new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"),
                    new AmazonDynamoDBConfig { ServiceURL = endpoint.Url, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0, Timeout = TimeSpan.FromSeconds(2) });
                await client.ListTablesAsync(new ListTablesRequest { Limit = 1 }, cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException)
            {
                return HealthCheckResult.Unhealthy("DynamoDB is not answering yet.", e);
            }
        });
        return builder.WithHealthCheck(key);
    }
}
