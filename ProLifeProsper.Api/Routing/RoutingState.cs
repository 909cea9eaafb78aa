namespace ProLifeProsper.Api.Routing;

/// <summary>The routing state an instance acts on: the phase, and the version every write is checked against.</summary>
public sealed record RoutingState(MigrationPhase Phase, long Version, DateTimeOffset ChangedAt, DateTimeOffset? FinalizedAt);
