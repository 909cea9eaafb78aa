namespace ProLifeProsper.LocalInfrastructure;

/// <summary>
/// Where local servers keep their data between runs: the user's data folder, or, as root, under the
/// postgres user's home, because root's home is closed to the postgres user the server runs as.
/// <paramref name="configuredRoot"/> (AppHost setting <c>LocalData:Root</c>) overrides both, e.g. for a throwaway test run.
/// </summary>
public static class LocalDataDirectories
{
    public static string For(string server, string? configuredRoot = null)
    {
        var root = !string.IsNullOrEmpty(configuredRoot) ? configuredRoot : LocalPostgresCluster.RunningAsRoot
            ? "/var/lib/postgresql/prolifeprosper"
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "ProLifeProsper");
        return Path.Combine(root, server);
    }
}
