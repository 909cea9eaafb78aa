using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.LocalInfrastructure;
using ProLifeProsper.Api.Routing;

namespace ProLifeProsper.Api.Tests.Infrastructure;

/// <summary>
/// The real API on Kestrel (real sockets, real request limits) against a real PostgreSQL database of
/// its own. Subclasses choose the routing configuration, so the same tests run on every one.
/// </summary>
public class ApiFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminApiKey = "test-admin-key-0123456789abcdef";

    private string _connectionString = "";

    /// <summary>The routing configuration under test.</summary>
    protected virtual string RoutingConfiguration => "current";

    /// <summary>Extra configuration for subclasses (for example the DynamoDB endpoint).</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [];

    public string ConnectionString => _connectionString;

    /// <summary>Set before start to share a database with another instance (several replicas of one API).</summary>
    public string? SharedConnectionString { get; init; }

    public virtual async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        _connectionString = SharedConnectionString ?? server.ConnectionStringFor(PostgresServer.NewDatabaseName("api"));
        UseKestrel(0);
        StartServer();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:prolifeprosper", _connectionString);
        builder.UseSetting("Auth:AdminApiKey", AdminApiKey);
        builder.UseSetting("Routing:Configuration", RoutingConfiguration);
        builder.UseSetting("Payments:Settlement:Delay", "00:00:01");
        builder.UseSetting("Payments:Settlement:PollInterval", "00:00:00.200");
        builder.UseSetting("Payments:Settlement:BatchSize", "5");
        // A refund's request is over within seconds here, even against the hostile DynamoDB: the pay-out sweeper may look after ten.
        builder.UseSetting("Payments:RefundPayouts:Grace", "00:00:10");
        builder.UseSetting("Payments:ChargeReconciliation:Grace", "00:00:03");
        builder.UseSetting("Payments:ChargeReconciliation:Interval", "00:00:00.500");
        builder.UseSetting("Payments:RefundPayouts:PollInterval", "00:00:00.200");
        foreach (var (key, value) in ExtraSettings()) builder.UseSetting(key, value);
        // The sandbox processor behind a line that tests can break (see LostAnswerGateway).
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<SandboxPaymentGateway>();
            services.AddSingleton<LostAnswerGateway>();
            services.AddSingleton<IPaymentGateway>(sp => sp.GetRequiredService<LostAnswerGateway>());
            services.AddSingleton<ShiftedClock>();
            services.AddSingleton<TimeProvider>(sp => sp.GetRequiredService<ShiftedClock>());
        });
    }

    /// <summary>The processor as the API sees it: its ledger, and the faults a test may inject.</summary>
    public LostAnswerGateway Gateway => Services.GetRequiredService<LostAnswerGateway>();

    /// <summary>The API's clock, which a test may move forward.</summary>
    public ShiftedClock Clock => Services.GetRequiredService<ShiftedClock>();

    public HttpClient CreateClient(string? apiKey)
    {
        var client = CreateClient();
        if (apiKey is not null) client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    public HttpClient CreateAdminClient() => CreateClient(AdminApiKey);

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();
}
