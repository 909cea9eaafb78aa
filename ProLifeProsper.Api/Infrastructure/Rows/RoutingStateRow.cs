namespace ProLifeProsper.Api.Infrastructure.Rows;

/// <summary>The single row of <c>routing_state</c>: the active phase and its version (bumped by every change).</summary>
public sealed class RoutingStateRow
{
    public int Id { get; set; } = 1;
    public string Phase { get; set; } = "postgres";
    public long Version { get; set; } = 1;
    public DateTimeOffset ChangedAt { get; set; }
    public string? ChangedBy { get; set; }

    /// <summary>When the phase became dynamo-only: a rollback copies back everything written since.</summary>
    public DateTimeOffset? FinalizedAt { get; set; }

    /// <summary>
    /// Where payments should live: the <c>Routing:Configuration</c> of the replica that started last with the reconciler on.
    /// One record for all replicas, so during a rolling restart the old replicas' configuration does not fight the new one's.
    /// </summary>
    public string? DesiredConfiguration { get; set; }

    public DateTimeOffset? DesiredAt { get; set; }

    /// <summary>
    /// Until when a copy to DynamoDB abandoned by a rollback (its outbox row dropped while a drain held it) may still land:
    /// a new migration does not start before, or the late copy could land over what its backfill writes.
    /// </summary>
    public DateTimeOffset? DynamoCopiesLandBy { get; set; }

    /// <summary>The explicit configuration replicas last started with: a restart with the same one is no new intention.</summary>
    public string? StartedConfiguration { get; set; }
}
