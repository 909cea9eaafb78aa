namespace ProLifeProsper.LoadTests.Engine;

/// <summary>How load is applied: closed (N virtual users back to back) or open (a constant arrival rate).</summary>
public enum LoadModel
{
    Closed,
    Open,
}

/// <summary>One run's settings.</summary>
public sealed record LoadOptions(LoadModel Model, int VirtualUsers, double RatePerSecond, TimeSpan Duration, TimeSpan WarmUp);

/// <summary>Pass/fail limits for the gate; a null limit is not checked.</summary>
public sealed record Thresholds(double? MaxP99Ms, double? MaxErrorRate, double? MinRps)
{
    public IEnumerable<string> Check(ScenarioResult result)
    {
        if (MaxP99Ms is { } p99 && result.P99Ms > p99) yield return $"{result.Name}: p99 {result.P99Ms:F1} ms > {p99} ms";
        if (MaxErrorRate is { } errors && result.ErrorRate > errors) yield return $"{result.Name}: error rate {result.ErrorRate:P2} > {errors:P2}";
        if (MinRps is { } rps && result.RequestsPerSecond < rps) yield return $"{result.Name}: {result.RequestsPerSecond:F0} req/s < {rps} req/s";
    }
}
