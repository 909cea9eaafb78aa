namespace ProLifeProsper.LoadTests.Engine;

/// <summary>One second of a run (counted from the end of warm-up): its requests, how many failed, and its latency percentiles.</summary>
public sealed record SecondSample(int Second, long Requests, long Errors, double P50Ms, double P95Ms, double P99Ms);

/// <summary>What one scenario did in one configuration (warm-up excluded).</summary>
public sealed record ScenarioResult(
    string Name, string Scenario, string Configuration, string Model, int VirtualUsers, double DurationSeconds,
    long Ok, long Failed, double RequestsPerSecond, double MinMs, double MeanMs, double MaxMs,
    double P50Ms, double P75Ms, double P95Ms, double P99Ms, long BytesReceived, IReadOnlyList<SecondSample> Timeline)
{
    public double ErrorRate => Ok + Failed == 0 ? 0 : Failed / (double)(Ok + Failed);

    /// <summary>How many requests got each answer: an HTTP status code, or the client error (warm-up excluded).</summary>
    public IReadOnlyDictionary<string, long> Answers { get; init; } = new Dictionary<string, long>();
}
