using System.Diagnostics;

namespace ProLifeProsper.LocalInfrastructure;

/// <summary>
/// The real API as its own process (<c>dotnet ProLifeProsper.Api.dll</c> from the caller's output folder) on a free loopback
/// port, configured by environment variables. Load tests measure it; fault tests kill it (<see cref="Kill"/>: SIGKILL, no
/// graceful shutdown, nothing released), as a crash or an out-of-memory kill would.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ApiProcess(Process process, string url) => (_process, Url) = (process, url);

    public string Url { get; }

    public static async Task<ApiProcess> StartAsync(IReadOnlyDictionary<string, string> environment)
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ProLifeProsper.Api.dll"));
        // The API's content root is its working directory: started from anywhere else it would miss its appsettings.json
        // (and log every request and SQL statement at Information, as a load run once measured).
        start.WorkingDirectory = AppContext.BaseDirectory;
        start.Environment["ASPNETCORE_URLS"] = url;
        foreach (var (key, value) in environment) start.Environment[key] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the API.");
        // The API's console log, kept only when asked for (PROLIFEPROSPER_API_LOG=<file>): a load run's API is otherwise silent.
        var log = Environment.GetEnvironmentVariable("PROLIFEPROSPER_API_LOG") is { Length: > 0 } path ? TextWriter.Synchronized(new StreamWriter(path, append: true) { AutoFlush = true }) : null;
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) log?.WriteLine(line); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) log?.WriteLine(line); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        ProcessExitCleanup.OnExit(() => Kill(process, wait: false));

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await http.GetAsync($"{url}/alive")).IsSuccessStatusCode) return new ApiProcess(process, url);
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(60)) throw new InvalidOperationException($"The API at {url} did not start.");
            await Task.Delay(200);
        }
    }

    /// <summary>Kills the process at once (SIGKILL), mid-whatever it was doing.</summary>
    public void Kill() => Kill(_process, wait: true);

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static void Kill(Process process, bool wait)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            if (wait) process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
    }
}
