namespace ProLifeProsper.Api.Routing;

/// <summary>Configuration section <c>Routing</c> (<c>Routing__Configuration</c> in the environment).</summary>
public sealed class RoutingOptions
{
    public const string SectionName = "Routing";

    /// <summary>
    /// One of <c>current</c>, <c>development</c>, <c>highScale</c>, <c>production</c>: where payments should live. Unset means
    /// <c>current</c> on a fresh database, and no intention to move payments on an existing one (a process run with the
    /// defaults never moves anyone's payments).
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>
    /// Drive the persisted phase toward <see cref="Configuration"/> by the online migration's own steps (one instance at a
    /// time). Off: the phase moves only by the admin steps, as before, and a differing configuration is only logged.
    /// </summary>
    public bool AutoMigrate { get; set; } = true;

    /// <summary>
    /// How long to soak in <c>dynamo-primary</c> (PostgreSQL still receiving every write, so a rollback is instant) before
    /// finalizing to <c>dynamo-only</c>. Unset: never finalize automatically (an operator does, when satisfied).
    /// </summary>
    public TimeSpan? FinalizeAfter { get; set; }

    /// <summary>How often the reconciler looks at the phase and takes its next step.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Failover as policy (opt-in): in <c>dynamo-primary</c>, where PostgreSQL still holds every payment, when DynamoDB has failed
    /// to answer for this long the reconciler rolls back by itself and sets the target to <c>current</c>, so payments are served
    /// from PostgreSQL; migrating again is an operator's step. Unset: never (a failing DynamoDB answers 503 until an operator acts).
    /// </summary>
    public TimeSpan? FailoverAfter { get; set; }
}
