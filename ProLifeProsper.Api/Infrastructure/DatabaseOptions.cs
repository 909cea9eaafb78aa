namespace ProLifeProsper.Api.Infrastructure;

/// <summary>The <c>Database</c> section.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    /// <summary>
    /// Apply the schema migrations when the API starts (the default: tests and a single process need nothing else).
    /// The AppHost turns it off: its database-setup resource migrates once, and the replicas wait for it, instead of
    /// racing each other to <c>CREATE DATABASE</c>.
    /// </summary>
    public bool MigrateOnStartup { get; set; } = true;
}
