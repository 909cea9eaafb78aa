namespace ProLifeProsper.Api.Routing;

/// <summary>
/// How long a drain holds the outbox rows it claimed. Under the lease, a write that cannot be taken back (the batched,
/// unconditional copy of new payments) is sent only within <see cref="SendWithin"/> of the claim; each such request
/// leaves within the write time-out of being sent and is taken to land within the write time-out of leaving, with 2 s to
/// spare (the bound the dynamo-only fence counts on, <c>RoutingStateOptions.DynamoOnlyFence</c>). So once the lease has run
/// out, nothing sent under it can still land, even if the process that claimed the rows was killed with a request in flight.
/// </summary>
public sealed record OutboxLease(TimeSpan SendWithin, TimeSpan Duration)
{
    public static OutboxLease For(TimeSpan writeTimeout) => new(writeTimeout, writeTimeout * 3 + TimeSpan.FromSeconds(2));
}
