namespace ProLifeProsper.Contracts.Migration;

/// <summary>The payments migration's steps, in the order an operator takes them; the one list the API, the dashboard and the command line use.</summary>
public static class MigrationSteps
{
    /// <summary>The admin migration resource: GET for its status, POST <c>/{step}</c> for a step.</summary>
    public const string Route = "/api/admin/migration";

    public static readonly MigrationStep Start = new("start", "StartMigration", "Start",
        "postgres → dual-write; the backfill then copies history to DynamoDB (resumable, rate-limited).",
        "Start migrating payments to DynamoDB?");

    public static readonly MigrationStep Verify = new("verify", "VerifyMigration", "Verify",
        "Compare the stores per organization (counts, sums, per-payment digest); cut-over needs a clean result.",
        null);

    public static readonly MigrationStep Cutover = new("cutover", "CutoverMigration", "Cut over",
        "verify → dynamo-primary: DynamoDB serves payments, PostgreSQL keeps every write as the shadow.",
        "Switch payments to DynamoDB?");

    public static readonly MigrationStep Finalize = new("finalize", "FinalizeMigration", "Finalize",
        "dynamo-primary → dynamo-only: PostgreSQL stops receiving payment writes.",
        "Stop writing payments to PostgreSQL?");

    public static readonly MigrationStep Rollback = new("rollback", "RollbackMigration", "Roll back",
        "Any phase → postgres, with every acknowledged payment present in PostgreSQL. From dynamo-only it answers 202 " +
        "while DynamoDB is copied back (resumable, in the background), and the rollback then finishes by itself.",
        "Roll payments back to PostgreSQL?");

    public static IReadOnlyList<MigrationStep> All { get; } = [Start, Verify, Cutover, Finalize, Rollback];
}
