using System.Diagnostics;
using Npgsql;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Testing;

/// <summary>
/// One real PostgreSQL server per test run: a throwaway cluster in a temporary folder on a free
/// loopback port, started on first use and stopped when the test process exits. Set
/// <c>PROLIFEPROSPER_TEST_POSTGRES</c> to a connection string to use an existing server instead.
/// Durability settings are relaxed (fsync off): tests check behaviour, not crash safety of the disk.
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartAsync);
    private readonly string _baseConnectionString;

    private PostgresServer(string baseConnectionString) => _baseConnectionString = baseConnectionString;

    public static Task<PostgresServer> GetAsync() => Shared.Value;

    /// <summary>A connection string to a database of its own (created by the API's migrations on first use).</summary>
    public string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(_baseConnectionString) { Database = database }.ConnectionString;

    /// <summary>A fresh, unique database name.</summary>
    public static string NewDatabaseName(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)].ToLowerInvariant();

    private static async Task<PostgresServer> StartAsync()
    {
        var external = Environment.GetEnvironmentVariable("PROLIFEPROSPER_TEST_POSTGRES");
        if (!string.IsNullOrEmpty(external)) return new PostgresServer(external);

        var bin = LocalPostgresCluster.FindBinDirectory() ?? throw new InvalidOperationException(
            "PostgreSQL 15+ server binaries were not found: install them (apt-get install -y postgresql) or set PROLIFEPROSPER_TEST_POSTGRES.");
        RemoveLeftovers();
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"{DirectoryPrefix}{Guid.NewGuid():N}");
        LocalPostgresCluster.EnsureInitialized(bin, dataDirectory);

        var port = FreePort.Next();
        var (file, args) = LocalPostgresCluster.ServerCommand(bin, dataDirectory, port,
            ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=400", "shared_buffers=128MB"]);
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start postgres.");
        var log = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        TestProcessCleanup.OnExit(
            // SIGINT is PostgreSQL's "fast" shutdown (SIGTERM would wait for clients to leave).
            () => Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit(),
            () => Stop(process, dataDirectory));

        var connectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Maximum Pool Size=200";
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
                await connection.OpenAsync();
                return new PostgresServer(connectionString);
            }
            catch (NpgsqlException) when (deadline.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
            {
                await Task.Delay(100);
            }
            catch (NpgsqlException e)
            {
                string output;
                lock (log) output = log.ToString();
                throw new InvalidOperationException($"PostgreSQL did not start: {output}", e);
            }
        }
    }

    private const string DirectoryPrefix = "plp-test-pg-";

    // A test host may be ended before it deletes its cluster: remove clusters whose server is no longer running.
    private static void RemoveLeftovers()
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), DirectoryPrefix + "*"))
        {
            try
            {
                var pidFile = Path.Combine(directory, "postmaster.pid");
                if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid) && Directory.Exists($"/proc/{pid}")) continue;
                if (Directory.GetLastWriteTimeUtc(directory) > DateTime.UtcNow.AddMinutes(-1)) continue; // may be starting up
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Someone else's, or in use: leave it.
            }
        }
    }

    private static void Stop(Process process, string dataDirectory)
    {
        if (!process.HasExited && !process.WaitForExit(TimeSpan.FromSeconds(5))) process.Kill(entireProcessTree: true);
        Directory.Delete(dataDirectory, recursive: true);
    }
}
