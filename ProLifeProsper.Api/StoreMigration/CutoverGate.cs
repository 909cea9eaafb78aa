using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Api.StoreMigration;

/// <summary>
/// "Load test before switching", as a gate: the load-test tool submits its result for a phase, this judges it again from
/// its figures and keeps it; with <see cref="MigrationOptions.CutoverRequiresLoadTest"/> a cut-over (by an operator or the
/// reconciler) needs a passing report of <c>dynamo-primary</c>, measured against this very build and no older than
/// <see cref="MigrationOptions.LoadTestMaxAge"/>. The reconciler waits on it like on any other gate.
/// </summary>
public sealed class CutoverGate(NpgsqlDataSource dataSource, IOptions<MigrationOptions> options, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // A phase measured in the future of this server's clock by more than this is refused (clock skew allowed).
    private static readonly TimeSpan FutureSkew = TimeSpan.FromMinutes(5);

    /// <summary>Checks the submission (422 when malformed), judges it and records it.</summary>
    public async Task<LoadTestVerdict> SubmitAsync(LoadTestReportSubmission submission, CancellationToken cancellationToken)
    {
        var now = UtcClock.Now(time);
        var phase = Validate(submission, now);
        var failures = Judge(submission);
        var verdict = new LoadTestVerdict(Guid.CreateVersion7(), phase.ToWire(), submission.ApiVersion!.Trim(), submission.MeasuredAt!.Value.ToUniversalTime(), now,
            failures.Count == 0, failures);
        await using var command = dataSource.CreateCommand(
            "INSERT INTO load_test_reports (id, phase, api_version, measured_at, submitted_at, passed, failures_json, report_json) " +
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
        command.Parameters.Add(new() { Value = verdict.Id });
        command.Parameters.Add(new() { Value = verdict.Phase });
        command.Parameters.Add(new() { Value = verdict.ApiVersion });
        command.Parameters.Add(new() { Value = verdict.MeasuredAt });
        command.Parameters.Add(new() { Value = verdict.SubmittedAt });
        command.Parameters.Add(new() { Value = verdict.Passed });
        command.Parameters.Add(new() { Value = JsonSerializer.Serialize(failures, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = JsonSerializer.Serialize(submission, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        await command.ExecuteNonQueryAsync(cancellationToken);
        return verdict;
    }

    /// <summary>The newest report submitted for <paramref name="phase"/>, or null.</summary>
    public async Task<LoadTestVerdict?> LatestAsync(MigrationPhase phase, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id, phase, api_version, measured_at, submitted_at, passed, failures_json FROM load_test_reports " +
            "WHERE phase = $1 ORDER BY submitted_at DESC, id DESC LIMIT 1");
        command.Parameters.Add(new() { Value = phase.ToWire() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new LoadTestVerdict(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
            reader.GetFieldValue<DateTimeOffset>(4), reader.GetBoolean(5), JsonSerializer.Deserialize<List<string>>(reader.GetString(6), Json) ?? []);
    }

    /// <summary>Why a cut-over may not run yet, or null when it may (the gate is off, or a fresh passing report of this build exists).</summary>
    public async Task<string?> WhyNotCutoverAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.CutoverRequiresLoadTest) return null;
        var maxAge = options.Value.LoadTestMaxAge;
        var needed = $"Cut-over requires a passing load test of dynamo-primary against this build ({ApiVersion.Current}) measured within the last " +
            $"{maxAge.TotalHours:0.#} h (loadtests … --configurations dynamo-primary --max-p99-ms … --submit-to <this API>)";
        if (!ApiVersion.Current.Contains('+', StringComparison.Ordinal))
            return $"{needed}: this build carries no commit in its version (built outside a git checkout), so no load test can be tied to it.";
        var latest = await LatestAsync(MigrationPhase.DynamoPrimary, cancellationToken);
        if (latest is null) return $"{needed}: none has been submitted.";
        if (!latest.Passed) return $"{needed}: the latest ({latest.MeasuredAt:u}) failed: {string.Join("; ", latest.Failures)}.";
        if (latest.ApiVersion != ApiVersion.Current) return $"{needed}: the latest measured another build ({latest.ApiVersion}).";
        var age = UtcClock.Now(time) - latest.MeasuredAt;
        return age > maxAge ? $"{needed}: the latest was measured {age.TotalHours:0.#} h ago." : null;
    }

    private static MigrationPhase Validate(LoadTestReportSubmission submission, DateTimeOffset now)
    {
        var errors = new ValidationErrors();
        var phase = PhaseOf(submission.Phase);
        errors.Require(phase is not null, "phase", "'phase' must be a migration phase (postgres, dual-write, backfill, verify, dynamo-primary, dynamo-only) or a routing configuration.");
        errors.RequireText(submission.ApiVersion, "apiVersion", 200);
        if (submission.MeasuredAt is not { } measuredAt) errors.Add("measuredAt", "'measuredAt' is required.");
        else errors.RequireSupportedTime(measuredAt, "measuredAt").Require(measuredAt <= now + FutureSkew, "measuredAt", "'measuredAt' is in the future.");
        var thresholds = submission.Thresholds;
        errors.Require(thresholds is { MaxP99Ms: not null } or { MaxErrorRate: not null } or { MinRps: not null }, "thresholds",
            "At least one threshold (maxP99Ms, maxErrorRate, minRps) is required: a report held to nothing passes nothing.");
        errors.Require(thresholds?.MaxP99Ms is not { } p99 || (double.IsFinite(p99) && p99 > 0), "thresholds.maxP99Ms", "Must be a positive number of milliseconds.");
        errors.Require(thresholds?.MaxErrorRate is not { } rate || rate is >= 0 and <= 1, "thresholds.maxErrorRate", "Must be a fraction from 0 to 1.");
        errors.Require(thresholds?.MinRps is not { } rps || (double.IsFinite(rps) && rps > 0), "thresholds.minRps", "Must be a positive number of requests per second.");
        var scenarios = submission.Scenarios ?? [];
        errors.Require(scenarios.Count is > 0 and <= 50, "scenarios", "Between 1 and 50 scenarios are required.");
        for (var i = 0; i < Math.Min(scenarios.Count, 50); i++)
        {
            var s = scenarios[i];
            if (s is null) { errors.Add($"scenarios[{i}]", "Must be an object."); continue; }
            errors.RequireText(s.Scenario, $"scenarios[{i}].scenario", 100);
            errors.Require(s.Ok >= 0 && s.Failed >= 0 && s.Ok + s.Failed > 0, $"scenarios[{i}]", "'ok' and 'failed' must be counts, not both zero.");
            errors.Require(double.IsFinite(s.RequestsPerSecond) && s.RequestsPerSecond >= 0 && double.IsFinite(s.P99Ms) && s.P99Ms >= 0,
                $"scenarios[{i}]", "'requestsPerSecond' and 'p99Ms' must be non-negative numbers.");
        }
        errors.Require(submission.Command is null || (submission.Command.Length <= 2_000 && ValidationErrors.IsPlainText(submission.Command)), "command",
            "'command' must be plain text of at most 2,000 characters.");
        errors.ThrowIfAny();
        return phase!.Value;
    }

    private static MigrationPhase? PhaseOf(string? name)
    {
        if (RoutingConfiguration.Find(name) is { } configuration)
            return configuration.PaymentsStore == PaymentsStoreKind.DynamoDb ? MigrationPhase.DynamoOnly : MigrationPhase.Postgres;
        try
        {
            return name is null ? null : MigrationPhases.Parse(name);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    // The tool's own verdict is not trusted: every scenario is held to every threshold here and to this deployment's error-rate
    // ceiling whatever the submitter chose, and writes must have been measured, successfully.
    private List<string> Judge(LoadTestReportSubmission submission)
    {
        var t = submission.Thresholds!;
        var failures = new List<string>();
        foreach (var s in submission.Scenarios!)
        {
            var errorRate = (double)s.Failed / (s.Ok + s.Failed);
            if (s.Ok == 0) failures.Add($"{s.Scenario}: no request succeeded");
            if (errorRate > options.Value.LoadTestMaxErrorRate)
                failures.Add($"{s.Scenario}: error rate {errorRate:P2} > {options.Value.LoadTestMaxErrorRate:P2} (Migration:LoadTestMaxErrorRate)");
            failures.AddRange(Contracts.Migration.LoadTestLimits.Breaches(s.Scenario ?? "", s.P99Ms, errorRate, s.RequestsPerSecond, t.MaxP99Ms, t.MaxErrorRate, t.MinRps));
        }
        if (!submission.Scenarios!.Any(s => s.Scenario == "create-payment"))
            failures.Add("create-payment was not measured: a cut-over moves payment writes, so they must be load-tested.");
        return failures;
    }
}
