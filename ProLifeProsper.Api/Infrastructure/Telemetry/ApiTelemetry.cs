using System.Diagnostics;

namespace ProLifeProsper.Api.Infrastructure.Telemetry;

/// <summary>
/// The API's own telemetry name and span source, shared by the stores' instruments and background work. It lives down here,
/// not with the stores' metrics, so that anything may trace without depending on the stores.
/// </summary>
public static class ApiTelemetry
{
    public const string Name = "ProLifeProsper";

    public static readonly ActivitySource ActivitySource = new(Name);
}
