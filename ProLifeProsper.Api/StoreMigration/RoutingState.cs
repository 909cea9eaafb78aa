namespace ProLifeProsper.Api.StoreMigration;

/// <summary>The routing state an instance acts on: the phase, and the version every write is checked against.</summary>
public sealed record RoutingState(MigrationPhase Phase, long Version, DateTimeOffset ChangedAt, DateTimeOffset? FinalizedAt);

/// <summary>A write was attempted under a routing version that is no longer current; refresh and retry.</summary>
public sealed class StaleRoutingException(long version) : Exception($"Routing version {version} is no longer current.")
{
    public long Version { get; } = version;
}
