using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.LoadTests.Targets;

/// <summary>
/// The real API as its own process (Release build, from this tool's output folder), configured for one routing
/// configuration against the PostgreSQL and dynalite servers this tool started; loopback only. Logging is as shipped
/// (appsettings.json): what is measured is what users run; --api-env overrides are the only differences.
/// </summary>
public static class LoadTestApi
{
    public static async Task<ApiProcess> StartAsync(string configuration, string connectionString, string dynamoUrl, string adminKey, IEnumerable<string> extraEnvironment)
    {
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__prolifeprosper"] = connectionString,
            ["Auth__AdminApiKey"] = adminKey,
            ["Routing__Configuration"] = configuration,
            ["DynamoDb__ServiceUrl"] = dynamoUrl,
            ["DynamoDb__TablePrefix"] = DynaliteServer.NewTablePrefix("load"),
            ["DynamoDb__CreateTablesOnStartup"] = "true",
            ["Payments__Settlement__Delay"] = "00:00:05",
            ["DOTNET_gcServer"] = "1",
            // The rate limiter runs (its cost is part of what is measured) but never refuses: --organizations 1 sends all the
            // load with one key, above the default per-organization limit.
            ["RateLimits__PerOrganization__TokenLimit"] = "10000000",
            ["RateLimits__PerOrganization__TokensPerPeriod"] = "10000000",
        };
        foreach (var variable in extraEnvironment)
        {
            var split = variable.IndexOf('=');
            if (split <= 0) throw new ArgumentException($"--api-env takes NAME=VALUE, not '{variable}'.");
            environment[variable[..split]] = variable[(split + 1)..];
        }
        return await ApiProcess.StartAsync(environment);
    }
}
