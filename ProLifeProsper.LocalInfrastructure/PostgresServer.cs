using System.Diagnostics;
using Npgsql;

namespace ProLifeProsper.LocalInfrastructure;

/// <summary>
/// One real PostgreSQL server per process (a test run, a benchmark, a load test): a throwaway cluster in a temporary
/// folder on a free loopback port, started on first use and stopped when the process exits. Set
/// <c>PROLIFEPROSPER_TEST_POSTGRES</c> to a connection string to use an existing server instead.
/// Durability settings are relaxed (fsync off): tests check behaviour, not crash safety of the disk.
/// <see cref="StartDedicatedAsync"/> gives a server of one's own that can be crashed and restarted (commits durable
/// up to the operating system, so a crash of the server loses nothing it acknowledged).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private static readonly Lazy<Task<PostgresServer>> Shared = new(() => StartAsync(dedicated: false));
    private readonly string _baseConnectionString;
    private readonly string? _bin;
    private readonly string? _dataDirectory;
    private readonly int _port;
    private readonly IReadOnlyList<string> _settings = [];
    private Process? _process;
    private bool _dedicated;

    private PostgresServer(string baseConnectionString) => _baseConnectionString = baseConnectionString;

    private PostgresServer(string bin, string dataDirectory, int port, IReadOnlyList<string> settings)
    {
        (_bin, _dataDirectory, _port, _settings) = (bin, dataDirectory, port, settings);
        _baseConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Maximum Pool Size=200";
    }

    public static Task<PostgresServer> GetAsync() => Shared.Value;

    /// <summary>A server of one's own (for a test that crashes it); deleted when the test process exits.</summary>
    public static Task<PostgresServer> StartDedicatedAsync() => StartAsync(dedicated: true);

    /// <summary>A connection string to a database of its own (created by the API's migrations on first use).</summary>
    public string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(_baseConnectionString) { Database = database }.ConnectionString;

    /// <summary>A fresh, unique database name.</summary>
    public static string NewDatabaseName(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)].ToLowerInvariant();

    /// <summary>
    /// Crashes the server (SIGKILL of the postmaster and its children: no checkpoint, no goodbye to clients), waits
    /// <paramref name="down"/>, and starts it again on the same data and port; it recovers from its write-ahead log.
    /// </summary>
    public async Task CrashAndRestartAsync(TimeSpan down)
    {
        if (_process is null) throw new InvalidOperationException("Only a server this process started can be crashed.");
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        await Task.Delay(down);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await LaunchAsync();
                return;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                await Task.Delay(TimeSpan.FromSeconds(1)); // e.g. the port not yet free after the crash
            }
        }
    }

    /// <summary>Stops a dedicated server and deletes its data (the shared one lives until the test process exits).</summary>
    public ValueTask DisposeAsync()
    {
        if (!_dedicated) return ValueTask.CompletedTask;
        if (_process is { HasExited: false } process) process.Kill(entireProcessTree: true); // its data goes too: no need to be gentle
        Stop();
        return ValueTask.CompletedTask;
    }

    private static async Task<PostgresServer> StartAsync(bool dedicated)
    {
        var external = Environment.GetEnvironmentVariable("PROLIFEPROSPER_TEST_POSTGRES");
        if (!dedicated && !string.IsNullOrEmpty(external)) return new PostgresServer(external);

        var bin = LocalPostgresCluster.FindBinDirectory() ?? throw new InvalidOperationException(
            "PostgreSQL 15+ server binaries were not found: install them (apt-get install -y postgresql) or set PROLIFEPROSPER_TEST_POSTGRES.");
        RemoveLeftovers();
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"{DirectoryPrefix}{Guid.NewGuid():N}");
        var ownership = new FileStream(dataDirectory + ".lock", FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        LocalPostgresCluster.EnsureInitialized(bin, dataDirectory);

        // The shared server trades durability for speed; a dedicated one is crashed on purpose, so every acknowledged
        // commit must be in the operating system's hands (fsync stays off: the machine itself does not crash).
        string[] settings = dedicated
            ? ["fsync=off", "full_page_writes=off", "max_connections=200", "shared_buffers=64MB"]
            : ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=400", "shared_buffers=128MB"];
        var server = new PostgresServer(bin, dataDirectory, FreePort.Next(), settings) { _ownership = ownership, _dedicated = dedicated };
        ProcessExitCleanup.OnExit(
            // SIGINT is PostgreSQL's "fast" shutdown (SIGTERM would wait for clients to leave).
            () => { if (server._process is { HasExited: false } p) Process.Start("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit(); },
            () => server.Stop());
        await server.LaunchAsync();
        return server;
    }

    private async Task LaunchAsync()
    {
        var (file, args) = LocalPostgresCluster.ServerCommand(_bin!, _dataDirectory!, _port, _settings);
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start postgres.");
        var log = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _process = process;

        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_baseConnectionString + ";Pooling=false");
                await connection.OpenAsync();
                return;
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

    // A test host may be ended before it deletes its cluster: remove clusters no live process owns. The owner holds an
    // exclusive lock on "<cluster>.lock" for as long as it lives (the server's own pid is no proof: a test may crash the
    // server on purpose, and another test process starting meanwhile must not take the cluster for a leftover).
    private static void RemoveLeftovers()
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), DirectoryPrefix + "*"))
        {
            try
            {
                var lockFile = directory + ".lock";
                if (!File.Exists(lockFile)) continue; // being created (the lock comes first), or not ours to judge
                using (new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                    // Its owner is gone; a server it left running goes with it.
                    var pidFile = Path.Combine(directory, "postmaster.pid");
                    if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid)
                        && File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Contains(directory, StringComparison.Ordinal))
                    {
                        using var orphan = Process.GetProcessById(pid);
                        orphan.Kill(entireProcessTree: true);
                        orphan.WaitForExit(5_000);
                    }
                    Directory.Delete(directory, recursive: true);
                }
                File.Delete(lockFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                // Owned by a live process (its lock is held), or in use, or already gone: leave it.
            }
        }
    }

    /// <summary>Held for the life of this process: the cluster is in use.</summary>
    private FileStream? _ownership;

    private void Stop()
    {
        if (_process is { HasExited: false } process && !process.WaitForExit(TimeSpan.FromSeconds(5))) process.Kill(entireProcessTree: true);
        if (_dataDirectory is null) return;
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
        _ownership?.Dispose();
        File.Delete(_dataDirectory + ".lock");
    }
}
