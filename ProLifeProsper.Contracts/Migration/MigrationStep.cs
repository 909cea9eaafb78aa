namespace ProLifeProsper.Contracts.Migration;

/// <summary>
/// One step of the payments migration, as every client offers it: the admin endpoint (<see cref="Path"/>, named
/// <see cref="EndpointName"/>), the dashboard command (<see cref="DisplayName"/>, asking <see cref="Confirmation"/>
/// first when the step moves payments) and the command line (<c>migrate <see cref="Name"/></c>).
/// </summary>
/// <param name="Name">The step's word: <c>start</c>, <c>verify</c>, <c>cutover</c>, <c>finalize</c>, <c>rollback</c>.</param>
/// <param name="EndpointName">The OpenAPI operation id.</param>
/// <param name="DisplayName">The dashboard command's label.</param>
/// <param name="Summary">What the step does: the endpoint's summary, the command's description.</param>
/// <param name="Confirmation">The question the dashboard asks before a step that moves payments; none for a read-only one.</param>
public sealed record MigrationStep(string Name, string EndpointName, string DisplayName, string Summary, string? Confirmation)
{
    /// <summary>The admin endpoint that takes the step (POST, admin key).</summary>
    public string Path => $"{MigrationSteps.Route}/{Name}";
}
