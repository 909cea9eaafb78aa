using System.CommandLine;

namespace ProLifeProsper.Simulation;

/// <summary>
/// <c>dotnet run --project tests/ProLifeProsper.Simulation -- --seed 7 --minutes 30</c>: a soak of the fault-injecting
/// simulation (its own PostgreSQL and dynalite, on loopback). Exit code 1 when an invariant was violated.
/// </summary>
public static class SimulateCommand
{
    public static async Task<int> Main(string[] args)
    {
        var seed = new Option<int>("--seed") { Description = "Drives every random choice and fault; rerun a failing seed with it.", DefaultValueFactory = _ => 1 };
        var minutes = new Option<double>("--minutes") { Description = "How long traffic and faults run (at most 600).", DefaultValueFactory = _ => 1 };
        var clients = new Option<int>("--clients") { Description = "Concurrent donor clients.", DefaultValueFactory = _ => 4 };
        var instances = new Option<int>("--instances") { Description = "API instances on one database.", DefaultValueFactory = _ => 2 };
        var root = new RootCommand("ProLifeProsper's fault-injecting simulation: payments, refunds and migration steps under injected faults, with invariants checked.")
        {
            seed, minutes, clients, instances,
        };
        root.SetAction(async (parse, _) =>
        {
            var report = await Simulation.RunAsync(new SimulationOptions
            {
                Seed = parse.GetValue(seed),
                Duration = TimeSpan.FromMinutes(Math.Clamp(parse.GetValue(minutes), 0.1, 600)),
                Clients = Math.Clamp(parse.GetValue(clients), 1, 64),
                Instances = Math.Clamp(parse.GetValue(instances), 1, 4),
                Log = Console.WriteLine,
            });
            Console.WriteLine(report);
            return report.Violations.Count == 0 ? 0 : 1;
        });
        return await root.Parse(args).InvokeAsync();
    }
}
