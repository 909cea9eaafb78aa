using System.Diagnostics;
using ProLifeProsper.Testing;

namespace ProLifeProsper.LoadTests.Targets;

/// <summary>
/// The real API as its own process (Release build, from this tool's output folder), configured for one routing
/// configuration against the PostgreSQL and dynalite servers this tool started; loopback only.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ApiProcess(Process process, string url) => (_process, Url) = (process, url);

    public string Url { get; }

    public static async Task<ApiProcess> StartAsync(string configuration, string connectionString, string dynamoUrl, string adminKey, IEnumerable<string> extraEnvironment)
    {
        var port = FreePort.Next();
        var url = $"http://127.0.0.1:{port}";
        var api = Path.Combine(AppContext.BaseDirectory, "ProLifeProsper.Api.dll");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(api);
        foreach (var (key, value) in new Dictionary<string, string>
                 {
                     ["ASPNETCORE_URLS"] = url,
                     ["ASPNETCORE_ENVIRONMENT"] = "Production",
                     ["ConnectionStrings__prolifeprosper"] = connectionString,
                     ["Auth__AdminApiKey"] = adminKey,
                     ["Routing__Configuration"] = configuration,
                     ["DynamoDb__ServiceUrl"] = dynamoUrl,
                     ["DynamoDb__TablePrefix"] = DynaliteServer.NewTablePrefix("load"),
                     ["DynamoDb__CreateTablesOnStartup"] = "true",
                     ["Logging__LogLevel__Default"] = "Warning",
                     ["Payments__Settlement__Delay"] = "00:00:05",
                     ["DOTNET_gcServer"] = "1",
                 })
            start.Environment[key] = value;
        foreach (var variable in extraEnvironment)
        {
            var split = variable.IndexOf('=');
            if (split <= 0) throw new ArgumentException($"--api-env takes NAME=VALUE, not '{variable}'.");
            start.Environment[variable[..split]] = variable[(split + 1)..];
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the API.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await http.GetAsync($"{url}/health")).IsSuccessStatusCode) return new ApiProcess(process, url);
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(60)) throw new InvalidOperationException($"The API ({configuration}) did not become healthy.");
            await Task.Delay(200);
        }
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
