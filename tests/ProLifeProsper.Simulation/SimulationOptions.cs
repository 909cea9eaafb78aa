namespace ProLifeProsper.Simulation;

/// <summary>One run: the seed that drives every random choice (clients, operator, faults, DynamoDB's dice) and how long.</summary>
public sealed record SimulationOptions
{
    public int Seed { get; init; } = 1;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Traffic goes on past <see cref="Duration"/> until the operator has changed the phase this many times (a slow machine
    /// backfills slowly), up to <see cref="MaxDuration"/>: a run must exercise the migration it claims to test.
    /// </summary>
    public int MinPhaseChanges { get; init; }

    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Concurrent donor-side clients.</summary>
    public int Clients { get; init; } = 4;

    /// <summary>API instances sharing one database, one DynamoDB and one processor.</summary>
    public int Instances { get; init; } = 2;

    public int Organizations { get; init; } = 3;

    /// <summary>Where progress lines go (the console for the command, the test output for xunit).</summary>
    public Action<string> Log { get; init; } = _ => { };
}
