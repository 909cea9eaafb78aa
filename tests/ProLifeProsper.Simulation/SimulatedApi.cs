using Amazon.DynamoDBv2;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.Testing.Faults;

namespace ProLifeProsper.Simulation;

/// <summary>
/// One API instance of the simulated deployment, on Kestrel (real sockets, so a client that gives up really cuts the
/// request off), sharing the database, DynamoDB (through the hostile profile) and the processor's ledger with its peers.
/// </summary>
public sealed class SimulatedApi(string connectionString, string dynamoUrl, string tablePrefix, HostileDynamoDb hostile, SandboxLedger ledger, FlakyProcessor processor)
    : WebApplicationFactory<Program>
{
    public const string AdminKey = "simulation-admin-key-0123456789";

    public static async Task<SimulatedApi> StartAsync(string connectionString, string dynamoUrl, string tablePrefix, HostileDynamoDb hostile, SandboxLedger ledger,
        FlakyProcessor processor)
    {
        var api = new SimulatedApi(connectionString, dynamoUrl, tablePrefix, hostile, ledger, processor);
        api.UseKestrel(0);
        await Task.Run(api.StartServer);
        return api;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["ConnectionStrings:prolifeprosper"] = connectionString,
            ["Auth:AdminApiKey"] = AdminKey,
            ["Routing:Configuration"] = "current",
            ["Routing:AutoMigrate"] = "false", // the simulation's operator takes the steps, at random
            ["DynamoDb:ServiceUrl"] = dynamoUrl,
            ["DynamoDb:TablePrefix"] = tablePrefix,
            ["DynamoDb:CreateTablesOnStartup"] = "true",
            ["DynamoDb:WriteShards"] = "4",
            ["DynamoDb:MaxRetries"] = "10",
            ["DynamoDb:WriteTimeout"] = "00:00:03",
            ["Migration:RoutingPollInterval"] = "00:00:00.200",
            ["Migration:OutboxPollInterval"] = "00:00:00.100",
            ["Migration:RoutingLease"] = "00:00:01",
            ["Migration:CopyLeaseDuration"] = "00:00:03",
            ["Migration:RollbackDrainTimeout"] = "00:00:03",
            ["Migration:IntentGrace"] = "00:00:30",
            ["Migration:BackfillItemsPerSecond"] = "5000",
            ["Migration:BackfillItemsPerSecondPerOrganization"] = "1000", // three organizations here, not thousands
            ["Payments:Settlement:Delay"] = "00:00:01",
            ["Payments:Settlement:PollInterval"] = "00:00:00.250",
            ["Payments:Settlement:BatchSize"] = "20",
            // Longer than any refund request here takes (faults and retries included), far shorter than the shipped 5 minutes.
            ["Payments:RefundPayouts:Grace"] = "00:00:20",
            ["Payments:RefundPayouts:PollInterval"] = "00:00:00.500",
            // One donor per organization declines 8% of its cards, on purpose, for hours: that is chaos to survive, not card
            // testing to stop (CardTestingApiTests covers the limit).
            ["RateLimits:FailedPaymentsPerDonor:Limit"] = "1000000",
            ["RateLimits:FailedPaymentsPerOrganization:Limit"] = "1000000",
            // Killed connections and injected faults make warnings by design; what is critical (a lost store) still shows.
            ["Logging:LogLevel:Default"] = "Critical",
            // The shipped categories are set one by one (appsettings.json): each must be overridden by name.
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Critical",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Critical",
            ["Logging:LogLevel:Npgsql"] = "Critical",
            ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Critical",
        })
            builder.UseSetting(key, value);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton(ledger);
            services.AddSingleton<IPaymentGateway>(processor);
            // A restart is a crash as far as the process can make one: no grace for in-flight requests or background work
            // (a copy, a drain, a settlement is cut off wherever it is). SIGKILL itself is in MigrationTests' ApiProcess tests.
            services.Configure<Microsoft.Extensions.Hosting.HostOptions>(options => options.ShutdownTimeout = TimeSpan.Zero);
            services.AddSingleton<IAmazonDynamoDB>(sp =>
                DynamoDbClientFactory.Create(sp.GetRequiredService<IOptions<DynamoDbOptions>>().Value, hostile.HttpClientFactory));
        });
    }

    public HttpClient CreateClient(string apiKey, TimeSpan timeout)
    {
        var client = CreateClient();
        client.Timeout = timeout;
        client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }
}
