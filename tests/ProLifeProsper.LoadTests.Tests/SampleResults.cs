using ProLifeProsper.LoadTests.Engine;

namespace ProLifeProsper.LoadTests.Tests;

/// <summary>Made-up scenario results shaped like the load runner's: three seconds each, answers by HTTP status.</summary>
internal static class SampleResults
{
    public static ScenarioResult Run(string scenario, string configuration, long failed = 0, IReadOnlyDictionary<string, long>? answers = null)
    {
        const long ok = 3_000;
        var timeline = Enumerable.Range(0, 3).Select(s => new SecondSample(s, (ok + failed) / 3, failed / 3, 1.5 + s, 4.0 + s, 9.0 + s)).ToList();
        return new ScenarioResult($"{scenario} @ {configuration}", scenario, configuration, "closed", 16, 3, ok, failed, (ok + failed) / 3.0,
            0.4, 2.1, 48.2, 1.5, 2.4, 4.0, 9.0, 1_234_567, timeline)
        {
            Answers = answers ?? new Dictionary<string, long> { ["201"] = ok },
        };
    }
}
