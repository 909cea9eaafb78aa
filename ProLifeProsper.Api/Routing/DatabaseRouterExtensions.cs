using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Routing;

/// <summary>
/// The database router. <c>Routing:Configuration</c> names where payments live on a fresh database; from then on
/// the migration phase persisted in PostgreSQL decides, and every instance follows it live. The services and
/// endpoints depend only on <see cref="IPaymentTransactionStore"/>, so switching needs no code change.
/// </summary>
public static class DatabaseRouterExtensions
{
    /// <summary>The router over the payment stores (<c>AddPaymentStores</c> first): its configuration, state, outbox and guards.</summary>
    public static IHostApplicationBuilder AddDatabaseRouter(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var name = builder.Configuration[$"{RoutingOptions.SectionName}:{nameof(RoutingOptions.Configuration)}"] ?? RoutingConfiguration.Current.Name;
        var routing = RoutingConfiguration.Find(name) ?? throw new InvalidOperationException(
            $"Unknown routing configuration '{name}'. Use one of: {string.Join(", ", RoutingConfiguration.All.Select(c => c.Name))}.");
        services.AddSingleton(routing);
        services.AddOptions<RoutingOptions>().BindConfiguration(RoutingOptions.SectionName)
            .Validate(o => o.ReconcileInterval >= TimeSpan.FromMilliseconds(10) && o.ReconcileInterval <= TimeSpan.FromHours(1),
                "Routing:ReconcileInterval must be from 10 ms to 1 hour.")
            .Validate(o => o.FinalizeAfter is null || o.FinalizeAfter >= TimeSpan.Zero, "Routing:FinalizeAfter must not be negative.")
            .Validate(o => o.FailoverAfter is null || o.FailoverAfter >= TimeSpan.FromSeconds(1), "Routing:FailoverAfter must be at least one second (or unset).")
            .ValidateOnStart();
        services.AddOptions<RoutingStateOptions>().BindConfiguration(RoutingStateOptions.SectionName);
        // In Development, a configuration that routes payments to DynamoDB creates its tables at start-up unless told otherwise.
        services.AddOptions<DynamoDbOptions>().PostConfigure<IHostEnvironment>((options, environment) =>
            options.CreateTablesOnStartup ??= environment.IsDevelopment() && routing.PaymentsStore == PaymentsStoreKind.DynamoDb);

        // A migration state machine in PostgreSQL decides, per phase, where payments are read and written.
        services.AddSingleton<RoutingStateRepository>();
        services.AddSingleton<RoutingStateCache>();
        services.AddSingleton<PaymentOutbox>();
        services.AddSingleton<IPaymentTransactionStore, RoutedPaymentTransactionStore>();
        services.AddSingleton<PaymentsStoreGuard>();

        // Start-up order matters: the routing state is loaded (after the stores' start-up), then background work starts.
        services.AddHostedService(sp => sp.GetRequiredService<RoutingStateCache>());
        services.AddHostedService(sp => sp.GetRequiredService<PaymentsStoreGuard>());
        services.AddSingleton<DynamoDbReadinessCheck>();
        services.AddHealthChecks().AddCheck<PaymentsStoreGuard>("payments-store").AddCheck<DynamoDbReadinessCheck>("dynamodb");
        return builder;
    }
}
