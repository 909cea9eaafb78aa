using ProLifeProsper.LoadTests.Engine;

namespace ProLifeProsper.LoadTests.Reporting;

/// <summary>A run's results, the API-efficiency lines and the gate's failures: what every report format is written from.</summary>
public sealed record LoadReport(DateTimeOffset StartedAt, string Machine, string Command, IReadOnlyList<ScenarioResult> Results, IReadOnlyList<string> Efficiency, IReadOnlyList<string> GateFailures);
