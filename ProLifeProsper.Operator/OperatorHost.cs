using System.CommandLine;
using Microsoft.Extensions.Hosting;
using ProLifeProsper.Api.Extensions;

namespace ProLifeProsper.Operator;

/// <summary>
/// The API's services with the API's configuration, built but never started: a command resolves what it needs, and no
/// background worker (settlement, backfill, reconciler) runs in the operator's process.
/// </summary>
internal static class OperatorHost
{
    /// <summary>
    /// Runs <paramref name="action"/> with the host. Configuration overrides (<c>--Routing:Configuration=highScale</c>) may
    /// follow the command's own options; any other stray word is refused before anything runs.
    /// </summary>
    public static void SetHostAction(this Command command, Func<ParseResult, IHost, CancellationToken, Task<int>> action)
    {
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) =>
        {
            var stray = parse.UnmatchedTokens.Where(token => !IsConfigurationOverride(token)).ToList();
            if (stray.Count > 0)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(
                    $"Unrecognized: {string.Join(' ', stray)}. Configuration is given as --Section:Key=value; see --help for the commands.");
                return 1;
            }
            using var host = Build(parse.UnmatchedTokens);
            return await action(parse, host, cancellationToken);
        });
    }

    private static bool IsConfigurationOverride(string token) => token.StartsWith("--", StringComparison.Ordinal) && token.Contains('=');

    private static IHost Build(IEnumerable<string> configuration)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [.. configuration],
            // The API's environment variable counts too (Development loads the user secrets the API uses).
            EnvironmentName = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT"),
            // The API's appsettings.json is copied next to this binary: found wherever the command is run from.
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.AddServiceDefaults();
        builder.AddApplicationCore(); // the stores and services, not the HTTP surface
        return builder.Build();
    }
}
