namespace ProLifeProsper.LocalInfrastructure;

/// <summary>
/// Where local servers keep their data between runs: the user's data folder, or, as root, under the
/// postgres user's home, because root's home is closed to the postgres user the server runs as.
/// </summary>
public static class LocalDataDirectories
{
    public static string For(string server)
    {
        var root = LocalPostgresCluster.RunningAsRoot
            ? "/var/lib/postgresql/prolifeprosper"
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "ProLifeProsper");
        return Path.Combine(root, server);
    }
}
