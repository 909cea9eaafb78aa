using System.Globalization;

namespace ProLifeProsper.Contracts.Migration;

/// <summary>
/// The pass/fail limits of a load-test report (a null limit is not checked), judged the same way by the load tool that
/// measures and by the cut-over gate that accepts its report.
/// </summary>
public static class LoadTestLimits
{
    /// <summary>What one scenario's figures break, as sentences an operator reads; empty when it passes.</summary>
    public static IEnumerable<string> Breaches(string scenario, double p99Ms, double errorRate, double requestsPerSecond,
        double? maxP99Ms, double? maxErrorRate, double? minRequestsPerSecond)
    {
        var c = CultureInfo.InvariantCulture;
        if (maxP99Ms is { } p99 && p99Ms > p99) yield return string.Format(c, "{0}: p99 {1:F1} ms > {2} ms", scenario, p99Ms, p99);
        if (maxErrorRate is { } rate && errorRate > rate) yield return string.Format(c, "{0}: error rate {1:P2} > {2:P2}", scenario, errorRate, rate);
        if (minRequestsPerSecond is { } rps && requestsPerSecond < rps) yield return string.Format(c, "{0}: {1:F0} req/s < {2} req/s", scenario, requestsPerSecond, rps);
    }
}
