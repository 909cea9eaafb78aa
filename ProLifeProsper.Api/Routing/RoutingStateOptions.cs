namespace ProLifeProsper.Api.Routing;

/// <summary>
/// How fresh each instance's view of the routing state must be. Bound from the <c>Migration</c> section, where operators have
/// always set these two (<c>Migration:RoutingPollInterval</c>, <c>Migration:RoutingLease</c>); the class lives with the router
/// that obeys them, so routing needs nothing from the store migration.
/// </summary>
public sealed class RoutingStateOptions
{
    public const string SectionName = "Migration";

    /// <summary>How often each instance re-reads the routing state (a change is obeyed within about this long).</summary>
    public TimeSpan RoutingPollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How old this instance's view of the routing state may be when a payment write starts; an older view is re-read
    /// first (and if PostgreSQL does not answer, the write is refused with a 503). So an instance whose routing poll keeps
    /// failing stops writing under a phase that may have ended, within this long.
    /// </summary>
    public TimeSpan RoutingLease { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long after leaving <c>dynamo-only</c> a write decided under it may still land in DynamoDB: one routing lease
    /// (the longest an instance may go on deciding by the old phase) plus the two steps of a write
    /// (<see cref="Storage.DynamoDb.DynamoDbOptions.WriteTimeout"/> each), plus a margin. The reverse copy starts after it.
    /// </summary>
    public TimeSpan DynamoOnlyFence(TimeSpan writeTimeout) => RoutingLease + writeTimeout * 2 + TimeSpan.FromSeconds(2);
}
