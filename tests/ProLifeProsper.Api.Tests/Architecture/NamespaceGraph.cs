using ArchUnitNET.Loader;

namespace ProLifeProsper.Api.Tests.Architecture;

/// <summary>
/// The API's folders as a graph: one node per top-level folder of ProLifeProsper.Api (folder = namespace), with
/// <c>Apis/Contracts</c> a node of its own (the wire format, which the services and the store migration build and the
/// endpoints send), and an edge wherever a type of one uses a type of another (signatures, fields, calls, as compiled).
/// </summary>
public sealed class NamespaceGraph
{
    private const string Root = "ProLifeProsper.Api";
    public const string Contracts = "Apis.Contracts";

    /// <summary>The API assembly as ArchUnitNET reads it (loaded once; reading it takes a moment).</summary>
    public static Lazy<ArchUnitNET.Domain.Architecture> ApiAssembly { get; } = new(() =>
        new ArchLoader().LoadAssemblies(typeof(ProLifeProsper.Api.Routing.RoutedPaymentTransactionStore).Assembly).Build());

    /// <summary>Edges (from, to) with the type-level uses behind each, for the failure message.</summary>
    public IReadOnlyDictionary<(string From, string To), IReadOnlyList<string>> Edges { get; }

    public NamespaceGraph(IReadOnlyDictionary<(string From, string To), IReadOnlyList<string>> edges) => Edges = edges;

    public static NamespaceGraph Of(ArchUnitNET.Domain.Architecture architecture)
    {
        var edges = new Dictionary<(string, string), List<string>>();
        foreach (var type in architecture.Types)
        {
            if (FolderOf(type.Namespace?.FullName) is not { } from) continue;
            foreach (var dependency in type.Dependencies)
            {
                if (FolderOf(dependency.Target?.Namespace?.FullName) is not { } to || to == from) continue;
                if (!edges.TryGetValue((from, to), out var uses)) edges[(from, to)] = uses = [];
                var use = $"{type.Name} -> {dependency.Target!.Name}";
                if (!uses.Contains(use)) uses.Add(use);
            }
        }
        return new NamespaceGraph(edges.ToDictionary(e => e.Key, e => (IReadOnlyList<string>)e.Value));
    }

    /// <summary>The folder a namespace belongs to: its first segment below ProLifeProsper.Api (Apis.Contracts apart), or null outside the API.</summary>
    public static string? FolderOf(string? ns)
    {
        if (ns is null || !(ns == Root || ns.StartsWith(Root + ".", StringComparison.Ordinal))) return null;
        if (ns == Root) return "(root)";
        var below = ns[(Root.Length + 1)..];
        if (below == Contracts || below.StartsWith(Contracts + ".", StringComparison.Ordinal)) return Contracts;
        return below.Split('.')[0];
    }

    /// <summary>Every set of folders that depend on each other in a circle (strongly connected, more than one), each sorted.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Cycles()
    {
        // Tarjan's algorithm: the graph has a dozen nodes, so recursion depth is no concern.
        var next = Edges.Keys.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Select(e => e.To).ToList());
        var nodes = Edges.Keys.SelectMany(e => new[] { e.From, e.To }).Distinct().Order(StringComparer.Ordinal).ToList();
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var cycles = new List<IReadOnlyList<string>>();

        void Visit(string node)
        {
            index[node] = low[node] = index.Count;
            stack.Push(node);
            foreach (var to in next.GetValueOrDefault(node) ?? [])
            {
                if (!index.ContainsKey(to))
                {
                    Visit(to);
                    low[node] = Math.Min(low[node], low[to]);
                }
                else if (stack.Contains(to))
                {
                    low[node] = Math.Min(low[node], index[to]);
                }
            }
            if (low[node] != index[node]) return;
            var component = new List<string>();
            string member;
            do
            {
                member = stack.Pop();
                component.Add(member);
            }
            while (member != node);
            if (component.Count > 1) cycles.Add(component.Order(StringComparer.Ordinal).ToList());
        }

        foreach (var node in nodes)
            if (!index.ContainsKey(node)) Visit(node);
        return cycles;
    }

    /// <summary>The edges inside a cycle, with a few of the uses behind each: what to move to break it.</summary>
    public string Describe(IReadOnlyList<string> cycle) => string.Join(Environment.NewLine, Edges
        .Where(e => cycle.Contains(e.Key.From) && cycle.Contains(e.Key.To))
        .OrderBy(e => e.Key.From, StringComparer.Ordinal).ThenBy(e => e.Key.To, StringComparer.Ordinal)
        .Select(e => $"  {e.Key.From} -> {e.Key.To}: {string.Join(", ", e.Value.Take(5))}"));
}
