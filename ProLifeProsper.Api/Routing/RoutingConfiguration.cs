namespace ProLifeProsper.Api.Routing;

/// <summary>Which database serves payment transactions. Organizations, campaigns and donors are always PostgreSQL.</summary>
public enum PaymentsStoreKind
{
    PostgreSql,
    DynamoDb,
}

/// <summary>
/// A named routing configuration, as users of the design guide know them: <c>current</c> and
/// <c>development</c> keep everything on PostgreSQL; <c>highScale</c> and <c>production</c> send payments to DynamoDB.
/// </summary>
public sealed record RoutingConfiguration(string Name, PaymentsStoreKind PaymentsStore)
{
    public static readonly RoutingConfiguration Current = new("current", PaymentsStoreKind.PostgreSql);
    public static readonly RoutingConfiguration Development = new("development", PaymentsStoreKind.PostgreSql);
    public static readonly RoutingConfiguration HighScale = new("highScale", PaymentsStoreKind.DynamoDb);
    public static readonly RoutingConfiguration Production = new("production", PaymentsStoreKind.DynamoDb);

    public static IReadOnlyList<RoutingConfiguration> All { get; } = [Current, Development, HighScale, Production];

    /// <summary>Finds a configuration by name (case-insensitive), or null.</summary>
    public static RoutingConfiguration? Find(string? name) =>
        All.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));

    public string PaymentsStoreName => PaymentsStore == PaymentsStoreKind.DynamoDb ? "dynamodb" : "postgresql";
}
