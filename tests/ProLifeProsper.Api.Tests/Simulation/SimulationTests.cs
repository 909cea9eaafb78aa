using ProLifeProsper.Simulation;
using Xunit.Abstractions;

namespace ProLifeProsper.Api.Tests.Simulation;

/// <summary>
/// The fault-injecting simulation on fixed seeds (a longer soak: <c>dotnet run --project tests/ProLifeProsper.Simulation --
/// --seed N --minutes M</c>). Each run must violate no invariant, and must actually have met what it claims to test:
/// DynamoDB faults of every write kind, killed PostgreSQL connections, a crashed PostgreSQL server, restarted instances and
/// phase changes.
/// </summary>
[Collection(SimulationCollection.Name)]
public sealed class SimulationTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(3)]
    [InlineData(11)]
    public async Task No_invariant_is_violated_under_faults_and_random_migration_steps(int seed)
    {
        var report = await ProLifeProsper.Simulation.Simulation.RunAsync(new SimulationOptions
        {
            Seed = seed,
            Duration = TimeSpan.FromSeconds(50),
            MinPhaseChanges = 3,
            Log = output.WriteLine,
        });
        output.WriteLine(report.ToString());

        Assert.True(report.Violations.Count == 0, report.ToString());
        Assert.True(report.Count("creates.acknowledged") > 100 && report.Count("refunds.acknowledged") > 50, report.ToString());
        Assert.True(report.Count("phase-changes") >= 3, $"too few phase changes to test the migration: {report}");
        foreach (var fault in new[] { "Throttle", "FailedBeforeSend", "AppliedThenServerError", "AppliedThenReset" })
            Assert.True(report.DynamoDbFaults[fault] > 0, $"no {fault} was injected: {report}");
        Assert.True(report.Count("faults.postgres-kills") > 0, $"no PostgreSQL connection was killed: {report}");
        Assert.True(report.Count("faults.postgres-crashes") > 0, $"the PostgreSQL server was never crashed: {report}");
        Assert.True(report.Count("status.none") > 0, $"no request was cut off: {report}");
    }
}

/// <summary>The simulation saturates two cores by design: it runs alone, after the suites that run in parallel.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SimulationCollection
{
    public const string Name = "simulation";
}
