using System.Reflection;

namespace ProLifeProsper.Api.Infrastructure;

/// <summary>This build's informational version, with the commit it was built from (the SDK appends it): what a load test measured.</summary>
public static class ApiVersion
{
    public static string Current { get; } =
        typeof(ApiVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
