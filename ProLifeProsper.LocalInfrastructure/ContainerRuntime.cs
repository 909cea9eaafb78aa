using System.Diagnostics;

namespace ProLifeProsper.LocalInfrastructure;

/// <summary>
/// Whether a container runtime answers. Aspire's own detector is internal and, without a runtime,
/// leaves container resources unhealthy forever; asking <c>docker info</c> first takes ~10 ms.
/// </summary>
public static class ContainerRuntime
{
    public static bool IsAvailable()
    {
        var forced = Environment.GetEnvironmentVariable("PROLIFEPROSPER_CONTAINERS");
        if (bool.TryParse(forced, out var value)) return value;
        var runtime = Environment.GetEnvironmentVariable("DOTNET_ASPIRE_CONTAINER_RUNTIME") ?? "docker";
        return Answers(runtime);
    }

    private static bool Answers(string runtime)
    {
        try
        {
            var start = new ProcessStartInfo(runtime, "info") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(start);
            if (process is null) return false;
            process.StandardOutput.ReadToEndAsync();
            process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // not installed
        }
    }
}
