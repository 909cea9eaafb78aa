using System.Diagnostics;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Testing;

/// <summary>
/// One real dynalite server per test run on a free loopback port, started on first use and stopped when
/// the test process exits. Tests isolate themselves with their own table prefix.
/// Set <c>PROLIFEPROSPER_TEST_DYNAMODB</c> to an endpoint URL to use an existing server instead.
/// </summary>
public sealed class DynaliteServer
{
    private static readonly Lazy<Task<DynaliteServer>> Shared = new(StartAsync);
    private static Process? _process;

    private DynaliteServer(string serviceUrl) => ServiceUrl = serviceUrl;

    public string ServiceUrl { get; }

    public static Task<DynaliteServer> GetAsync() => Shared.Value;

    public static string NewTablePrefix(string name) => $"test_{name}_{Guid.NewGuid():N}_";

    public IAmazonDynamoDB CreateClient() =>
        new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"),
            new AmazonDynamoDBConfig { ServiceURL = ServiceUrl, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 });

    /// <summary>Stops the server (to test what happens when DynamoDB is unavailable); it is not restarted.</summary>
    public static void Kill() => Stop();

    private static async Task<DynaliteServer> StartAsync()
    {
        var external = Environment.GetEnvironmentVariable("PROLIFEPROSPER_TEST_DYNAMODB");
        if (!string.IsNullOrEmpty(external)) return new DynaliteServer(external);

        var root = LocalDynalite.FindRepositoryRoot(AppContext.BaseDirectory);
        LocalDynalite.EnsureInstalled(root);
        var port = FreePort.Next();
        var start = new ProcessStartInfo("node") { WorkingDirectory = root, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in LocalDynalite.ServerArguments(port.ToString(System.Globalization.CultureInfo.InvariantCulture))) start.ArgumentList.Add((string)arg);
        _process = Process.Start(start) ?? throw new InvalidOperationException("Could not start dynalite.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();

        var server = new DynaliteServer($"http://127.0.0.1:{port}");
        using var client = server.CreateClient();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await client.ListTablesAsync(new Amazon.DynamoDBv2.Model.ListTablesRequest { Limit = 1 });
                return server;
            }
            catch (Exception e) when (e is AmazonServiceException or HttpRequestException or AmazonClientException && deadline.Elapsed < TimeSpan.FromSeconds(30) && !_process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    private static void Stop()
    {
        try
        {
            if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }
}
