using System.Diagnostics;

namespace ProLifeProsper.LocalInfrastructure;

/// <summary>
/// Runs PostgreSQL as a plain local process where no container runtime exists: finds the server
/// binaries, initdb's a data folder once, and builds the command line that starts the server.
/// As root, initdb and postgres refuse to run, so both go through <c>setpriv</c> as the postgres user.
/// The AppHost, the tests, the benchmarks and the load tests all start PostgreSQL through it, so all start it the same way.
/// </summary>
public static class LocalPostgresCluster
{
    public const string ServiceUser = "postgres";

    /// <summary>Where the server binaries live, or null when PostgreSQL is not installed.</summary>
    public static string? FindBinDirectory()
    {
        var configured = Environment.GetEnvironmentVariable("PROLIFEPROSPER_PG_BIN");
        if (!string.IsNullOrEmpty(configured)) return HasServer(configured) ? configured : null;

        // Debian/Ubuntu: /usr/lib/postgresql/N/bin; RHEL: /usr/pgsql-N/bin; Homebrew: .../postgresql@N/bin.
        var versioned = new[] { ("/usr/lib/postgresql", ""), ("/usr", "pgsql-"), ("/opt/homebrew/opt", "postgresql@"), ("/usr/local/opt", "postgresql@") }
            .SelectMany(VersionedCandidates)
            .OrderByDescending(c => c.Version)
            .Select(c => c.Bin);
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return versioned.Concat(["/usr/local/pgsql/bin"]).Concat(onPath).FirstOrDefault(HasServer);
    }

    /// <summary>True when this process runs as root (initdb and postgres must then switch user).</summary>
    public static bool RunningAsRoot => OperatingSystem.IsLinux() && Environment.UserName == "root";

    /// <summary>Creates the cluster in <paramref name="dataDirectory"/> unless one is already there.</summary>
    public static void EnsureInitialized(string binDirectory, string dataDirectory)
    {
        if (File.Exists(Path.Combine(dataDirectory, "PG_VERSION"))) return;
        Directory.CreateDirectory(dataDirectory);
        if (RunningAsRoot) Run("chown", [$"{ServiceUser}:{ServiceUser}", dataDirectory]);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        // Trust authentication, but only on loopback: this is a developer's or a test's private server.
        var (file, args) = AsServiceUser(Path.Combine(binDirectory, "initdb"),
            ["-D", dataDirectory, "-U", ServiceUser, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"]);
        Run(file, args);
    }

    /// <summary>The command that runs the server in the foreground on 127.0.0.1 (port from PGPORT or <paramref name="port"/>).</summary>
    public static (string FileName, string[] Arguments) ServerCommand(string binDirectory, string dataDirectory, int? port = null, IEnumerable<string>? settings = null)
    {
        List<string> args = ["-D", dataDirectory, "-c", "listen_addresses=127.0.0.1", "-c", $"unix_socket_directories={dataDirectory}"];
        if (port is { } p) args.AddRange(["-p", p.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        foreach (var setting in settings ?? []) args.AddRange(["-c", setting]);
        return AsServiceUser(Path.Combine(binDirectory, "postgres"), args);
    }

    private static (string, string[]) AsServiceUser(string file, IReadOnlyList<string> args) =>
        RunningAsRoot
            ? (FindOnPath("setpriv") ?? "setpriv", [$"--reuid={ServiceUser}", $"--regid={ServiceUser}", "--init-groups", file, .. args])
            : (file, args.ToArray());

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);

    private static bool HasServer(string directory) =>
        File.Exists(Path.Combine(directory, "postgres")) && File.Exists(Path.Combine(directory, "initdb"));

    // Folders named <prefix><major version> under <parent>, each with a bin folder.
    private static IEnumerable<(int Version, string Bin)> VersionedCandidates((string Parent, string Prefix) layout)
    {
        if (!Directory.Exists(layout.Parent)) yield break;
        foreach (var dir in Directory.EnumerateDirectories(layout.Parent, layout.Prefix + "*"))
        {
            if (int.TryParse(Path.GetFileName(dir)[layout.Prefix.Length..], out var version) && version >= 15)
                yield return (version, Path.Combine(dir, "bin"));
        }
    }

    private static void Run(string file, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {stderr}{stdout.Result}");
    }
}
