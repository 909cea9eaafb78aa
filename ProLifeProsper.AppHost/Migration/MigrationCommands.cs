namespace ProLifeProsper.AppHost.Migration;

/// <summary>The migration steps offered as dashboard commands on the migration resource (the same admin API a script would call).</summary>
internal static class MigrationCommands
{
    public static readonly (string Step, string Name, string Description, string? Confirm)[] Steps =
    [
        ("start", "Start", "postgres → dual-write, then backfill history to DynamoDB.", "Start migrating payments to DynamoDB?"),
        ("verify", "Verify", "Compare PostgreSQL and DynamoDB (counts, sums, every payment).", null),
        ("cutover", "Cut over", "verify → dynamo-primary: DynamoDB serves payments; PostgreSQL keeps a shadow copy.", "Switch payments to DynamoDB?"),
        ("finalize", "Finalize", "dynamo-primary → dynamo-only: stop writing payments to PostgreSQL.", "Stop writing payments to PostgreSQL?"),
        ("rollback", "Roll back", "Any phase → postgres, with every acknowledged payment in PostgreSQL.", "Roll payments back to PostgreSQL?"),
    ];
}
