using System.Diagnostics;
using Amazon.DynamoDBv2;
using Amazon.Runtime;

namespace ProLifeProsper.LocalInfrastructure;

/// <summary>
/// Real, throwaway dynalite servers on free loopback ports, for tests, benchmarks and load tests. <see cref="GetAsync"/>
/// gives the one shared by the process (a test run; tests isolate themselves with their own table prefix); <see cref="StartDedicatedAsync"/> gives a server of
/// one's own, kept on disk, that a test may stop and restart (to test DynamoDB being unavailable).
/// Set <c>PROLIFEPROSPER_TEST_DYNAMODB</c> to an endpoint URL to use an existing server as the shared one.
/// </summary>
public sealed class DynaliteServer : IAsyncDisposable
{
    private static readonly Lazy<Task<DynaliteServer>> Shared = new(() => StartAsync(persistent: false));
    private readonly int _port;
    private readonly string? _path;
    private Process? _process;

    private DynaliteServer(int port, string? path, string? external = null)
    {
        _port = port;
        _path = path;
        ServiceUrl = external ?? $"http://127.0.0.1:{port}";
    }

    public string ServiceUrl { get; }

    public static Task<DynaliteServer> GetAsync() => Shared.Value;

    public static Task<DynaliteServer> StartDedicatedAsync() => StartAsync(persistent: true);

    public static string NewTablePrefix(string name) => $"test_{name}_{Guid.NewGuid():N}_";

    /// <summary>A client of this server (the tests' hostile one, that throttles and loses answers, is in ProLifeProsper.Testing).</summary>
    public IAmazonDynamoDB CreateClient() =>
        new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"),
            new AmazonDynamoDBConfig { ServiceURL = ServiceUrl, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 });

    /// <summary>Stops the server; its data stays on disk for <see cref="RestartAsync"/> (dedicated servers only).</summary>
    public void Stop()
    {
        try
        {
            if (_process is { HasExited: false })
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>Starts the server again on the same port and data folder.</summary>
    public Task RestartAsync() => LaunchAsync();

    public ValueTask DisposeAsync()
    {
        Stop();
        if (_path is not null)
        {
            try { Directory.Delete(_path, recursive: true); }
            catch (IOException) { /* best effort */ }
        }
        return ValueTask.CompletedTask;
    }

    private static async Task<DynaliteServer> StartAsync(bool persistent)
    {
        var external = Environment.GetEnvironmentVariable("PROLIFEPROSPER_TEST_DYNAMODB");
        if (!persistent && !string.IsNullOrEmpty(external)) return new DynaliteServer(0, null, external);

        var path = persistent ? Path.Combine(Path.GetTempPath(), $"plp-dynalite-{Guid.NewGuid():N}") : null;
        var server = new DynaliteServer(FreePort.Next(), path);
        await server.LaunchAsync();
        ProcessExitCleanup.OnExit(server.Stop);
        return server;
    }

    private async Task LaunchAsync()
    {
        var root = LocalDynalite.FindRepositoryRoot(AppContext.BaseDirectory);
        LocalDynalite.EnsureInstalled(root);
        var start = new ProcessStartInfo("node") { WorkingDirectory = root, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in LocalDynalite.ServerArguments(_port.ToString(System.Globalization.CultureInfo.InvariantCulture), _path)) start.ArgumentList.Add((string)arg);
        _process = Process.Start(start) ?? throw new InvalidOperationException("Could not start dynalite.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var client = CreateClient();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await client.ListTablesAsync(new Amazon.DynamoDBv2.Model.ListTablesRequest { Limit = 1 });
                return;
            }
            catch (Exception e) when (e is AmazonServiceException or HttpRequestException or AmazonClientException && deadline.Elapsed < TimeSpan.FromSeconds(30) && !_process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }
}
