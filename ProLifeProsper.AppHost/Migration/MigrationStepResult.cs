using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ProLifeProsper.AppHost.Migration;

/// <summary>
/// What a migration command tells the operator: what the step did and the phase it left (or, refused, what the API said
/// must come first), not a bare "succeeded".
/// </summary>
public static class MigrationStepResult
{
    public static ExecuteCommandResult Describe(string step, HttpStatusCode status, string body)
    {
        var json = TryParse(body);
        if ((int)status >= 400)
        {
            var problem = json is null ? body : $"{json["title"]}{(json["detail"] is { } detail ? $" {detail}" : "")}";
            return CommandResults.Failure($"{(int)status}: {problem}".Trim());
        }
        if (json is null) return CommandResults.Success($"{step}: {(int)status}");
        return step switch
        {
            "start" => CommandResults.Success(
                $"Started: phase {json["routing"]?["phase"]} (routing v{json["routing"]?["version"]}). The backfill copies the history to DynamoDB; " +
                "this resource shows its progress."),
            "verify" => Verified(json),
            "rollback" when status == HttpStatusCode.Accepted => CommandResults.Success(
                $"Rolling back: DynamoDB is being copied back to PostgreSQL (reverse copy), then the phase becomes postgres by itself. " +
                $"Now {Routing(json)}."),
            "rollback" => CommandResults.Success($"Rolled back: {Routing(json)}."),
            "cutover" => CommandResults.Success($"Cut over: {Routing(json)}."),
            "finalize" => CommandResults.Success($"Finalized: {Routing(json)}."),
            _ => CommandResults.Success($"{step}: {Routing(json)}."),
        };
    }

    private static ExecuteCommandResult Verified(JsonObject result)
    {
        var scope = $"{MigrationStatusView.Count(Long(result["payments"]), "payment")} in {MigrationStatusView.Count(Long(result["organizations"]), "organization")}";
        if (result["clean"]?.GetValue<bool>() == true) return CommandResults.Success($"Verification clean: {scope} match in PostgreSQL and DynamoDB.");
        var mismatches = result["mismatches"] as JsonArray ?? [];
        var first = mismatches.FirstOrDefault() is { } m ? $" First: {m["kind"]} in organization {m["organizationId"]}: {m["detail"]}" : "";
        return CommandResults.Failure($"Verification found {MigrationStatusView.Count(mismatches.Count, "mismatch")} in {scope}; cut-over waits for a clean one.{first}");
    }

    private static string Routing(JsonObject routing)
    {
        var shadow = (string?)routing["shadowStore"];
        return $"phase {routing["phase"]} (routing v{routing["version"]}), payments served by {routing["paymentsStore"]}" +
               (shadow is null ? "" : $", copied to {shadow}");
    }

    private static long Long(JsonNode? node) => node?.GetValue<long>() ?? 0;

    private static JsonObject? TryParse(string body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
