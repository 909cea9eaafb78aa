namespace ProLifeProsper.Api.Infrastructure.Rows;

/// <summary>A submitted load test and the gate's verdict on it (<c>load_test_reports</c>).</summary>
public sealed class LoadTestReportRow
{
    public Guid Id { get; set; }
    public string Phase { get; set; } = "";
    public string ApiVersion { get; set; } = "";
    public DateTimeOffset MeasuredAt { get; set; }
    public DateTimeOffset SubmittedAt { get; set; }
    public bool Passed { get; set; }

    /// <summary>Why it failed (JSON array of sentences; empty when it passed).</summary>
    public string FailuresJson { get; set; } = "[]";

    /// <summary>The submission as received (JSON), for the record.</summary>
    public string ReportJson { get; set; } = "{}";
}
