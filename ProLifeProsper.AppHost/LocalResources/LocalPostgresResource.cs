namespace Aspire.Hosting.ApplicationModel;

/// <summary>PostgreSQL running as a local process; exposes the same connection string a container would.</summary>
public sealed class LocalPostgresResource(string name, string command, string workingDirectory, string databaseName)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "tcp";

    public string DatabaseName { get; } = databaseName;

    public EndpointReference PrimaryEndpoint => field ??= new(this, PrimaryEndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Property(EndpointProperty.IPV4Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username=postgres;Database={DatabaseName}");
}
