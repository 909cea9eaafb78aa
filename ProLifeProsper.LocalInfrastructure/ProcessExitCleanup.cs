namespace ProLifeProsper.LocalInfrastructure;

/// <summary>
/// Stops the servers a process (a test host, a benchmark, a load test) started when it exits. All quick steps (signals)
/// run before any slow one (waiting, deleting data), so a test host that is given little time to exit still stops every server.
/// </summary>
public static class ProcessExitCleanup
{
    private static readonly List<Action> Quick = [];
    private static readonly List<Action> Slow = [];

    static ProcessExitCleanup() => AppDomain.CurrentDomain.ProcessExit += (_, _) => RunAll();

    public static void OnExit(Action quick, Action? slow = null)
    {
        lock (Quick)
        {
            Quick.Add(quick);
            if (slow is not null) Slow.Add(slow);
        }
    }

    private static void RunAll()
    {
        Action[] quick, slow;
        lock (Quick) (quick, slow) = (Quick.ToArray(), Slow.ToArray());
        foreach (var action in quick.Concat(slow))
        {
            try { action(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Best effort: cleanup must never fail the run.
            }
        }
    }
}
