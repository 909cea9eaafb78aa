using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;

namespace ProLifeProsper.AppHost.Migration;

/// <summary>
/// What the migration resource shows on the dashboard, read from <c>GET /api/admin/migration</c>: the phase as its state
/// (green when payments are where the reconciler wants them, blue while they move, amber when something needs a look) and
/// one property per part of the migration, each a sentence.
/// </summary>
public static class MigrationStatusView
{
    /// <summary>More writes than this waiting for the other store means it is not keeping up (the reconciler's own limit).</summary>
    private const long OutboxBacklog = 500;

    public static ResourceStateSnapshot State(JsonObject status)
    {
        var phase = (string?)status["routing"]?["phase"] ?? "unknown";
        var reconciler = status["reconciler"];
        var verification = status["lastVerification"];
        var queued = OutboxDepths(status).Sum(d => d.Depth);
        var style = queued > OutboxBacklog || verification?["clean"]?.GetValue<bool>() == false ? KnownResourceStateStyles.Warn
            : reconciler?["reached"]?.GetValue<bool>() == true ? KnownResourceStateStyles.Success
            : KnownResourceStateStyles.Info;
        return new ResourceStateSnapshot(phase, style);
    }

    public static ImmutableArray<ResourcePropertySnapshot> Properties(JsonObject status) =>
    [
        Property(1, "migration.phase", "Phase", Phase(status["routing"])),
        Property(2, "migration.backfill", "Backfill", Backfill(status["backfill"])),
        Property(3, "migration.outbox", "Outbox", Outbox(status)),
        Property(4, "migration.verification", "Last verification", Verification(status["lastVerification"])),
        Property(5, "migration.reconciler", "Reconciler", Reconciler(status["reconciler"])),
        Property(6, "migration.reconciler.last", "Reconciler's last step", LastStep(status["reconciler"])),
        Property(7, "migration.reverse-copy", "Reverse copy", ReverseCopy(status["reverseCopy"])),
    ];

    // Highlighted: the dashboard hides properties it does not know unless they are. After its own (name, state, ...).
    private static ResourcePropertySnapshot Property(int order, string name, string displayName, string value) =>
        new(name, value) { DisplayName = displayName, IsHighlighted = true, SortOrder = 1_000 + order };

    private static string Phase(JsonNode? routing)
    {
        if (routing is null) return "unknown";
        var shadow = (string?)routing["shadowStore"];
        return $"{routing["phase"]} (routing v{routing["version"]} since {Time(routing["changedAt"])}): payments served by {routing["paymentsStore"]}" +
               (shadow is null ? "" : $", copied to {shadow}");
    }

    private static string Backfill(JsonNode? backfill)
    {
        if (backfill?["startedAt"] is null) return "not started";
        var copied = Long(backfill["copied"]);
        var records = Long(backfill["recordsCopied"]);
        if (backfill["completedAt"] is { } completed)
            return $"complete at {Time(completed)}: {N(copied)} payments and {N(records)} idempotency records copied to DynamoDB";
        var total = Long(backfill["total"]);
        var percent = total > 0 ? $" ({Math.Min(100, 100.0 * copied / total).ToString("0.0", CultureInfo.InvariantCulture)} %)" : "";
        var eta = backfill["etaSeconds"] is { } seconds ? $", about {N((long)Math.Ceiling(seconds.GetValue<double>()))} s left" : "";
        return $"{N(copied)} of {N(total)} payments{percent} at {N((long)Math.Round(backfill["itemsPerSecond"]?.GetValue<double>() ?? 0))}/s{eta}; " +
               $"{N(records)} idempotency records";
    }

    private static string Outbox(JsonObject status)
    {
        var depths = OutboxDepths(status);
        return depths.Count == 0 ? "empty" : string.Join(", ", depths.Select(d => $"{N(d.Depth)} writes queued for {d.Store}"));
    }

    private static List<(string Store, long Depth)> OutboxDepths(JsonObject status) =>
        status["outboxDepth"] is JsonObject depths ? [.. depths.Select(d => (d.Key, Long(d.Value)))] : [];

    private static string Verification(JsonNode? verification)
    {
        if (verification is null) return "not run";
        var scope = $"{Count(Long(verification["payments"]), "payment")} in {Count(Long(verification["organizations"]), "organization")} at {Time(verification["completedAt"])}";
        if (verification["clean"]?.GetValue<bool>() == true) return $"clean: {scope}";
        var mismatches = verification["mismatches"] as JsonArray;
        return $"{Count(mismatches?.Count ?? 0, "mismatch")}: {scope}";
    }

    private static string Reconciler(JsonNode? reconciler)
    {
        if (reconciler is null) return "unknown";
        var target = (string?)reconciler["target"] ?? "(none recorded)";
        if (reconciler["enabled"]?.GetValue<bool>() != true) return $"paused (Routing:AutoMigrate=false); target {target}";
        if (reconciler["reached"]?.GetValue<bool>() == true) return $"payments are where {target} wants them";
        var next = (string?)reconciler["nextStep"];
        var waiting = (string?)reconciler["waitingFor"];
        return $"toward {target}: " + (next is null ? "" : $"next step {next}") + (waiting is null ? "" : $"{(next is null ? "" : "; ")}waiting for {waiting}");
    }

    private static string LastStep(JsonNode? reconciler) =>
        reconciler?["lastOutcome"] is { } outcome ? $"{outcome} ({Time(reconciler["lastStepAt"])})" : "none since this replica started";

    private static string ReverseCopy(JsonNode? copy)
    {
        if (copy?["startedAt"] is null) return "not needed";
        var copied = $"{N(Long(copy["copied"]))} payments and {N(Long(copy["recordsCopied"]))} idempotency records";
        return copy["completedAt"] is { } completed ? $"complete at {Time(completed)}: {copied} copied back to PostgreSQL" : $"copying back to PostgreSQL: {copied} so far";
    }

    private static long Long(JsonNode? node) => node is null ? 0 : node.GetValue<long>();

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>"1 payment", "2 payments", "3 mismatches".</summary>
    internal static string Count(long value, string noun) =>
        $"{N(value)} {(value == 1 ? noun : noun.EndsWith("ch", StringComparison.Ordinal) ? noun + "es" : noun + "s")}";

    private static string Time(JsonNode? node) =>
        node is not null && DateTimeOffset.TryParse((string?)node, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at.UtcDateTime.ToString("HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)
            : "?";
}
