using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

// Adds common Aspire services: service discovery, resilience, health checks, and OpenTelemetry.
// Shaped like the Aspire 13 template so it reads the same as every other Aspire app.
public static class Extensions
{
    private const string HealthEndpointPath = "/health";
    private const string AlivenessEndpointPath = "/alive";

    /// <summary>Meters and activity sources of the application itself, exported with the framework's.</summary>
    public const string ApplicationTelemetryName = "ProLifeProsper";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(ApplicationTelemetryName))
            .WithTracing(tracing => tracing
                // Parent-based (a caller's "not sampled" holds even where OTEL_TRACES_SAMPLER says always_on, as under the
                // AppHost), and nothing inside an Untraced scope.
                .SetSampler(new UntracedAwareSampler())
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(ApplicationTelemetryName)
                // Health probes would drown the traces that matter: no server span (and UseUntracedRequests records none
                // of their work either).
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsUntraced(context.Request))
                .AddHttpClientInstrumentation());

        builder.AddOpenTelemetryExporters();
        return builder;
    }

    /// <summary>
    /// Requests whose work is not traced: health probes. (A caller whose W3C <c>traceparent</c> has the sampled flag off, such
    /// as the AppHost's status polls, is not traced by the parent-based sampler, without anything of it being suppressed.)
    /// </summary>
    private static bool IsUntraced(HttpRequest request) =>
        request.Path.StartsWithSegments(HealthEndpointPath) || request.Path.StartsWithSegments(AlivenessEndpointPath);

    private static TBuilder AddOpenTelemetryExporters<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        return builder;
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString(), description = e.Value.Description }),
        });
    }

    /// <summary>
    /// Runs the requests that are not traced (<see cref="IsUntraced"/>) in an <see cref="Untraced"/> scope, so that none of
    /// their work (queries, calls) is recorded as spans either: the instrumentation's filter drops only their server span,
    /// and their queries would otherwise be traces of their own. First in the pipeline, before anything that queries.
    /// </summary>
    public static WebApplication UseUntracedRequests(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (!IsUntraced(context.Request))
            {
                await next(context);
                return;
            }
            using var untraced = Untraced.Begin(); // spans only: a failing probe still logs
            await next(context);
        });
        return app;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // All health checks must pass for the app to be ready to accept traffic. The answer names what is wrong, so an
        // operator reading a 503 learns what to do without searching the logs. Probes are never rate limited: a flood from
        // the prober's address must not get a healthy instance taken out of service.
        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions { ResponseWriter = WriteHealthAsync }).DisableRateLimiting();
        // Only the "live" checks must pass for the app to be considered alive.
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") }).DisableRateLimiting();
        return app;
    }
}
