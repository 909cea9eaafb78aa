namespace ProLifeProsper.Api.Apis.Contracts;

/// <summary>
/// A load test's result for one routing phase, as the load-test tool submits it (<c>--submit-to</c>): what was measured,
/// against which API build, when, and the thresholds it was held to. The API judges it again from the figures.
/// </summary>
/// <param name="Phase">The migration phase (<c>postgres</c>, <c>dual-write</c>, <c>dynamo-primary</c>, <c>dynamo-only</c>) or routing configuration measured.</param>
/// <param name="ApiVersion">The measured API's informational version (with its commit).</param>
public sealed record LoadTestReportSubmission(string? Phase, string? ApiVersion, DateTimeOffset? MeasuredAt, LoadTestThresholds? Thresholds,
    IReadOnlyList<LoadTestScenarioFigures>? Scenarios, string? Command);

/// <summary>The gate's limits; at least one is required.</summary>
public sealed record LoadTestThresholds(double? MaxP99Ms, double? MaxErrorRate, double? MinRps);

/// <summary>One scenario's figures.</summary>
public sealed record LoadTestScenarioFigures(string? Scenario, long Ok, long Failed, double RequestsPerSecond, double P99Ms);

/// <summary>The gate's verdict on a submitted load test.</summary>
public sealed record LoadTestVerdict(Guid Id, string Phase, string ApiVersion, DateTimeOffset MeasuredAt, DateTimeOffset SubmittedAt, bool Passed,
    IReadOnlyList<string> Failures);
