using System.Diagnostics;

namespace ProLifeProsper.LocalInfrastructure;

/// <summary>
/// dynalite, the DynamoDB-compatible server used where no container runtime exists. It is pinned in the
/// repository's package.json/package-lock.json and installed with <c>npm ci</c> when missing; it is started
/// with node directly (not npx), so stopping the process stops the server.
/// The AppHost and <see cref="DynaliteServer"/> both start dynalite through it.
/// </summary>
public static class LocalDynalite
{
    public const string CliPath = "node_modules/dynalite/cli.js";

    /// <summary>The repository root (the folder with package.json), searched upwards from <paramref name="start"/>.</summary>
    public static string FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "package.json")) && File.Exists(Path.Combine(dir.FullName, "ProLifeProsper.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"No ProLifeProsper repository (package.json beside ProLifeProsper.sln) above {start}.");
    }

    /// <summary>Runs <c>npm ci</c> once if dynalite is not installed yet (serialised across processes by a lock file).</summary>
    public static void EnsureInstalled(string repositoryRoot) => EnsureNodePackages(repositoryRoot, CliPath);

    /// <summary>
    /// Runs <c>npm ci</c> once if <paramref name="requiredFile"/> (relative to the root) is missing: the repository's node
    /// packages (dynalite, and Redocly CLI for the tests) come from its lock file together.
    /// </summary>
    public static void EnsureNodePackages(string repositoryRoot, string requiredFile)
    {
        if (File.Exists(Path.Combine(repositoryRoot, requiredFile))) return;
        using var gate = AcquireLock(Path.Combine(Path.GetTempPath(), "prolifeprosper-npm-ci.lock"));
        if (File.Exists(Path.Combine(repositoryRoot, requiredFile))) return;

        var start = new ProcessStartInfo("npm") { WorkingDirectory = repositoryRoot, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "ci", "--no-audit", "--no-fund", "--loglevel=error" }) start.ArgumentList.Add(arg);
        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("Node.js 20.19+ (with npm) is needed for the repository's node packages (dynalite, the local DynamoDB-compatible server; Redocly CLI for the tests): install Node.js.", e);
        }
        using (process)
        {
            var stdout = process!.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"npm ci failed ({process.ExitCode}): {stderr}{stdout.Result}");
        }
    }

    /// <summary>
    /// The node arguments that start dynalite on 127.0.0.1:<paramref name="port"/> (tables ACTIVE at once), keeping its data in
    /// <paramref name="dataDirectory"/> (LevelDB), or in memory when null.
    /// </summary>
    public static object[] ServerArguments(object port, string? dataDirectory = null) =>
        dataDirectory is null
            ? [CliPath, "--host", "127.0.0.1", "--port", port, "--createTableMs", "0"]
            : [CliPath, "--host", "127.0.0.1", "--port", port, "--createTableMs", "0", "--path", dataDirectory];

    private static FileStream AcquireLock(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (attempt < 600)
            {
                Thread.Sleep(200);
            }
        }
    }
}
