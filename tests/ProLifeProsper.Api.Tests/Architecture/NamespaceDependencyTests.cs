using ArchUnitNET.Fluent;
using ArchUnitNET.xUnit;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace ProLifeProsper.Api.Tests.Architecture;

/// <summary>
/// The API's folders depend on each other one way (docs/architecture.md draws the graph): no cycle among them, the stores
/// know nothing of routing or what is built on it, and the wire format depends on the domain only.
/// </summary>
public sealed class NamespaceDependencyTests
{
    private static ArchUnitNET.Domain.Architecture Api => NamespaceGraph.ApiAssembly.Value;

    [Fact]
    public void The_api_folders_depend_on_each_other_without_cycles()
    {
        var graph = NamespaceGraph.Of(Api);
        Assert.Contains(("Routing", "Storage"), graph.Edges.Keys); // the graph is read at all: the router uses the stores
        var cycles = graph.Cycles();
        Assert.True(cycles.Count == 0, "Folders that depend on each other in a circle:" + Environment.NewLine +
            string.Join(Environment.NewLine, cycles.Select(c => string.Join(" <-> ", c) + Environment.NewLine + graph.Describe(c))));
    }

    [Fact]
    public void The_cycle_check_finds_a_cycle()
    {
        var graph = new NamespaceGraph(new Dictionary<(string, string), IReadOnlyList<string>>
        {
            [("Storage", "Routing")] = ["PostgreSqlStore -> RoutingState"],
            [("Routing", "Storage")] = ["Router -> PostgreSqlStore"],
            [("StoreMigration", "Routing")] = ["Backfill -> RoutingState"],
        });

        var cycle = Assert.Single(graph.Cycles());
        Assert.Equal(["Routing", "Storage"], cycle);
        Assert.Contains("PostgreSqlStore -> RoutingState", graph.Describe(cycle));
    }

    [Fact]
    public void The_stores_know_nothing_of_routing_or_what_is_built_on_it()
    {
        IArchRule rule = Types().That().ResideInNamespaceOrBelow("ProLifeProsper.Api.Storage")
            .Should().NotDependOnAny(Types().That().ResideInNamespaceOrBelow("ProLifeProsper.Api.Routing")
                .Or().ResideInNamespaceOrBelow("ProLifeProsper.Api.StoreMigration")
                .Or().ResideInNamespaceOrBelow("ProLifeProsper.Api.Services")
                .Or().ResideInNamespace("ProLifeProsper.Api.Apis"));
        rule.Check(Api);
    }

    [Fact]
    public void The_router_does_not_depend_on_the_store_migration_or_the_services()
    {
        IArchRule rule = Types().That().ResideInNamespaceOrBelow("ProLifeProsper.Api.Routing")
            .Should().NotDependOnAny(Types().That().ResideInNamespaceOrBelow("ProLifeProsper.Api.StoreMigration")
                .Or().ResideInNamespaceOrBelow("ProLifeProsper.Api.Services")
                .Or().ResideInNamespace("ProLifeProsper.Api.Apis"));
        rule.Check(Api);
    }

    [Fact]
    public void The_contracts_depend_on_the_domain_only()
    {
        IArchRule rule = Types().That().ResideInNamespace("ProLifeProsper.Api.Apis.Contracts")
            .Should().NotDependOnAny(Types().That().ResideInNamespaceMatching(@"^ProLifeProsper\.Api\.(?!Apis\.Contracts$)"));
        rule.Check(Api);
    }
}
