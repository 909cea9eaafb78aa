/// <summary>The migration steps offered as dashboard commands on the API resource.</summary>
internal static class MigrationCommands
{
    public static readonly (string Step, string Name, string Description, string? Confirm)[] Steps =
    [
        ("start", "Migration: start", "postgres → dual-write, then backfill history to DynamoDB.", "Start migrating payments to DynamoDB?"),
        ("verify", "Migration: verify", "Compare PostgreSQL and DynamoDB (counts, sums, every payment).", null),
        ("cutover", "Migration: cut over", "verify → dynamo-primary: DynamoDB serves payments; PostgreSQL keeps a shadow copy.", "Switch payments to DynamoDB?"),
        ("finalize", "Migration: finalize", "dynamo-primary → dynamo-only: stop writing payments to PostgreSQL.", "Stop writing payments to PostgreSQL?"),
        ("rollback", "Migration: roll back", "Any phase → postgres, with every acknowledged payment in PostgreSQL.", "Roll payments back to PostgreSQL?"),
    ];
}
