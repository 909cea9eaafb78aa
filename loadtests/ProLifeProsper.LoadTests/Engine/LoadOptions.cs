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
    public IEnumerable<string> Check(ScenarioResult result) =>
        ProLifeProsper.Contracts.Migration.LoadTestLimits.Breaches(result.Name, result.P99Ms, result.ErrorRate, result.RequestsPerSecond, MaxP99Ms, MaxErrorRate, MinRps);
}
