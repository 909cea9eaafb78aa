using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using ProLifeProsper.Api.Auth;
using ProLifeProsper.Api.Capacity;
using ProLifeProsper.Api.Errors;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Api.Infrastructure.SchemaMigration;
using ProLifeProsper.Api.OpenApi;
using ProLifeProsper.Api.RateLimiting;
using ProLifeProsper.Api.Services;
using ProLifeProsper.Api.Services.ChargeReconciliation;
using ProLifeProsper.Api.Services.Refunds;
using ProLifeProsper.Api.Infrastructure.Leases;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.Storage;
using ProLifeProsper.Api.StoreMigration;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.Api.Apis;

namespace ProLifeProsper.Api.Extensions;

public static class ApplicationServiceExtensions
{
    /// <summary>Name of the PostgreSQL connection string (<c>ConnectionStrings__prolifeprosper</c>).</summary>
    public const string DatabaseConnectionName = "prolifeprosper";

    /// <summary>Largest request body accepted; anything bigger is refused with 413 before it is read.</summary>
    public const long MaxRequestBodyBytes = 64 * 1024;

    /// <summary>Everything the API serves with: <see cref="AddApplicationCore"/> and the HTTP surface (authentication, rate limits, errors, JSON, OpenAPI).</summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddApplicationCore();
        var services = builder.Services;

        // Authentication: X-Api-Key, admin or organization; then the rate limits.
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName);
        services.AddSingleton<ApiKeyCache>();
        services.AddAuthentication(ApiKeyDefaults.Scheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyDefaults.Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyDefaults.AdminPolicy, policy => policy.RequireRole(ApiKeyDefaults.AdminRole));
        services.AddRequestRateLimiting();

        // Errors: RFC 7807 everywhere, including binding failures and oversized bodies.
        services.AddProblemDetails(options => options.CustomizeProblemDetails = ProblemTypes.ApplyStableType);
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonFallbackWriter>(); // after the default: used when it declines
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.Configure<JsonOptions>(options =>
        {
            // Numbers are numbers: "100" is not an amount (the web defaults would accept it).
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            // One value per field: with {"amountMinor":1,"AMOUNTMINOR":100000} the last would win, unseen by anything that read the first.
            options.SerializerOptions.AllowDuplicateProperties = false;
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        });
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = MaxRequestBodyBytes);

        services.AddApiContract();
        return builder;
    }

    /// <summary>
    /// The stores, the payment services and their workers, without HTTP: what the API serves with and what the operator's
    /// commands (ProLifeProsper.Operator) act on.
    /// </summary>
    public static IHostApplicationBuilder AddApplicationCore(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;

        // PostgreSQL: one pooled data source, shared by EF Core and the hand-written payment SQL.
        builder.AddNpgsqlDataSource(DatabaseConnectionName, configureDataSourceBuilder: dataSource =>
        {
            // The payment SQL repeats: let Npgsql prepare it once per connection. No session state is ever set,
            // so returning a connection to the pool needs no DISCARD ALL round trip.
            dataSource.ConnectionStringBuilder.MaxAutoPrepare = 64;
            dataSource.ConnectionStringBuilder.NoResetOnClose = true;
        });
        // Pooled: the options are built once, not per request (building them showed up in the create-payment profile).
        services.AddDbContextPool<ProLifeProsperDbContext>((sp, options) =>
            ProLifeProsperDbContext.UsePostgreSql(options, sp.GetRequiredService<NpgsqlDataSource>()));
        builder.EnrichNpgsqlDbContext<ProLifeProsperDbContext>(settings => settings.DisableHealthChecks = true);
        services.AddSingleton<SchemaMigrator>();
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.SectionName);
        services.AddHostedService<SchemaMigrationOnStartup>(); // first of the hosted services: the others need the schema
        services.AddSingleton<WorkerLeases>(); // one holder per background job across instances

        // The services the endpoints (and the settlement and refund pay-out workers below) call, per request or per pass;
        // the card-testing limit is theirs, not the HTTP layer's.
        services.AddScoped<OrganizationService>();
        services.AddScoped<ApiKeyService>();
        services.AddScoped<IdempotentCreates>();
        services.AddScoped<CampaignService>();
        services.AddScoped<DonorService>();
        services.AddScoped<PaymentTransactionService>();
        services.AddSingleton(new PaymentReferenceCache());
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName)
            .Validate(o => o.IsValid(), "Every RateLimits limit, period and window must be positive.")
            .ValidateOnStart();
        services.AddSingleton<FailedPaymentLimiter>();
        services.AddSingleton<ProcessorLookupLimiter>();
        services.AddSingleton<CapacityPlanGate>();

        // Payments.
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<SandboxLedger>();
        services.AddSingleton<IPaymentGateway, SandboxPaymentGateway>();
        builder.AddPaymentStores().AddDatabaseRouter().AddStoreMigration();
        services.AddSingleton<SystemHealthService>();
        services.AddOptions<PaymentSettlementOptions>().BindConfiguration(PaymentSettlementOptions.SectionName);
        services.AddHostedService<PaymentSettlementWorker>();
        services.AddOptions<ChargeReconciliationOptions>().BindConfiguration(ChargeReconciliationOptions.SectionName)
            .Validate(o => o.Grace > TimeSpan.Zero && o.Interval > TimeSpan.Zero && o.FirstLookBack >= TimeSpan.Zero, "Payments:ChargeReconciliation times must be positive.")
            .ValidateOnStart();
        services.AddSingleton<ChargeReconciliationCheckpoint>();
        services.AddHostedService<ChargeReconciler>();
        services.AddOptions<RefundPayoutOptions>().BindConfiguration(RefundPayoutOptions.SectionName);
        services.AddSingleton<RefundPayouts>();
        services.AddHostedService<RefundPayoutWorker>();
        return builder;
    }
}
