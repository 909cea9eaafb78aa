using System.Net;
using System.Text.Json.Nodes;
using ProLifeProsper.AppHost.Migration;

namespace ProLifeProsper.AppHost.Tests;

/// <summary>What the dashboard's migration resource and its commands say, from the admin API's answers.</summary>
public sealed class MigrationDashboardTests
{
    private static JsonObject Status(string phase, bool reached, long toDynamo, bool? clean = null) => JsonNode.Parse($$"""
        {
          "routing": { "configuration": "highScale", "phase": "{{phase}}", "version": 7, "changedAt": "2026-05-01T10:15:30+00:00",
                       "paymentsStore": "postgresql", "shadowStore": "dynamodb", "finalizedAt": null },
          "backfill": { "copied": 1234, "total": 5000, "recordsCopied": 99, "startedAt": "2026-05-01T10:15:31+00:00", "completedAt": null,
                        "itemsPerSecond": 120.4, "etaSeconds": 31.2 },
          "outboxDepth": { "dynamodb": {{toDynamo}}, "postgresql": 0 },
          "lastVerification": {{(clean is null ? "null" : $$"""{ "payments": 5000, "organizations": 3, "clean": {{(clean.Value ? "true" : "false")}}, "completedAt": "2026-05-01T10:20:00Z", "mismatches": [] }""")}},
          "reverseCopy": { "copied": 0, "recordsCopied": 0, "startedAt": null, "completedAt": null, "fenceUntil": null },
          "reconciler": { "enabled": true, "target": "highScale", "reached": {{(reached ? "true" : "false")}}, "nextStep": "verify",
                          "waitingFor": null, "lastOutcome": "start went through", "lastStepAt": "2026-05-01T10:15:31Z" }
        }
        """)!.AsObject();

    [Fact]
    public void The_state_is_the_phase_and_the_properties_say_the_backfill_progress_outbox_and_next_step()
    {
        var status = Status("backfill", reached: false, toDynamo: 3);

        Assert.Equal(new ResourceStateSnapshot("backfill", KnownResourceStateStyles.Info), MigrationStatusView.State(status));
        var properties = MigrationStatusView.Properties(status).ToDictionary(p => p.Name, p => (string)p.Value!);
        Assert.Equal("backfill (routing v7 since 10:15:30 UTC): payments served by postgresql, copied to dynamodb", properties["migration.phase"]);
        Assert.Equal("1,234 of 5,000 payments (24.7 %) at 120/s, about 32 s left; 99 idempotency records", properties["migration.backfill"]);
        Assert.Equal("3 writes queued for dynamodb, 0 writes queued for postgresql", properties["migration.outbox"]);
        Assert.Equal("toward highScale: next step verify", properties["migration.reconciler"]);
        Assert.Equal("not run", properties["migration.verification"]);
    }

    [Fact]
    public void A_migration_that_reached_its_target_is_green_and_one_that_needs_a_look_is_amber()
    {
        Assert.Equal(KnownResourceStateStyles.Success, MigrationStatusView.State(Status("dynamo-primary", reached: true, toDynamo: 0)).Style);
        Assert.Equal(KnownResourceStateStyles.Warn, MigrationStatusView.State(Status("dual-write", reached: false, toDynamo: 501)).Style);
        Assert.Equal(KnownResourceStateStyles.Warn, MigrationStatusView.State(Status("verify", reached: false, toDynamo: 0, clean: false)).Style);
    }

    [Fact]
    public void A_command_says_what_the_step_did_and_the_phase_it_left()
    {
        var cutover = MigrationStepResult.Describe("cutover", HttpStatusCode.OK,
            """{"configuration":"highScale","phase":"dynamo-primary","version":9,"paymentsStore":"dynamodb","shadowStore":"postgresql"}""");
        Assert.True(cutover.Success);
        Assert.Equal("Cut over: phase dynamo-primary (routing v9), payments served by dynamodb, copied to postgresql.", cutover.Message);

        var rollback = MigrationStepResult.Describe("rollback", HttpStatusCode.Accepted,
            """{"configuration":"current","phase":"dynamo-primary","version":12,"paymentsStore":"dynamodb","shadowStore":"postgresql"}""");
        Assert.True(rollback.Success);
        Assert.StartsWith("Rolling back: DynamoDB is being copied back to PostgreSQL", rollback.Message);
    }

    [Fact]
    public void A_refused_step_or_an_unclean_verification_fails_with_the_reason()
    {
        var refused = MigrationStepResult.Describe("cutover", HttpStatusCode.Conflict,
            """{"title":"The migration step cannot run now.","detail":"Verify first: the last verification is not clean.","status":409}""");
        Assert.False(refused.Success);
        Assert.Equal("409: The migration step cannot run now. Verify first: the last verification is not clean.", refused.Message);

        var unclean = MigrationStepResult.Describe("verify", HttpStatusCode.OK,
            """{"payments":10,"organizations":1,"clean":false,"mismatches":[{"organizationId":"0196a000-0000-7000-8000-000000000001","kind":"missing","detail":"not in DynamoDB"}]}""");
        Assert.False(unclean.Success);
        Assert.Contains("1 mismatch in 10 payments in 1 organization", unclean.Message);
    }
}
