namespace ProLifeProsper.Api.Routing;

/// <summary>Configuration section <c>Routing</c> (<c>Routing__Configuration</c> in the environment).</summary>
public sealed class RoutingOptions
{
    public const string SectionName = "Routing";

    /// <summary>One of <c>current</c>, <c>development</c>, <c>highScale</c>, <c>production</c>.</summary>
    public string Configuration { get; set; } = RoutingConfiguration.Current.Name;
}
