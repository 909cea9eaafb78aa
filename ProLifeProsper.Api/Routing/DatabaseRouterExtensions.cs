using Amazon.DynamoDBv2;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.Instrumentation;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Routing;

/// <summary>
/// The database router: reads <c>Routing:Configuration</c> and registers the payment store it names. The
/// services and endpoints depend only on <see cref="IPaymentTransactionStore"/>, so switching is configuration alone.
/// </summary>
public static class DatabaseRouterExtensions
{
    public static IHostApplicationBuilder AddDatabaseRouter(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var name = builder.Configuration[$"{RoutingOptions.SectionName}:{nameof(RoutingOptions.Configuration)}"] ?? RoutingConfiguration.Current.Name;
        var routing = RoutingConfiguration.Find(name) ?? throw new InvalidOperationException(
            $"Unknown routing configuration '{name}'. Use one of: {string.Join(", ", RoutingConfiguration.All.Select(c => c.Name))}.");
        services.AddSingleton(routing);
        services.AddSingleton<StoreMetrics>();

        services.AddOptions<DynamoDbOptions>().BindConfiguration(DynamoDbOptions.SectionName)
            .Validate(o => o.WriteShards is >= 1 and <= 1_000, "DynamoDb:WriteShards must be from 1 to 1000.")
            .ValidateOnStart();
        services.AddSingleton(sp => DynamoDbClientFactory.Create(sp.GetRequiredService<IOptions<DynamoDbOptions>>().Value));
        services.AddSingleton<DynamoDbCaller>();
        services.AddSingleton<DynamoDbTableInitializer>();
        services.AddSingleton<PostgreSqlPaymentTransactionStore>();
        services.AddSingleton<DynamoDbPaymentTransactionStore>();

        services.AddSingleton<IPaymentTransactionStore>(sp => new InstrumentedPaymentTransactionStore(
            routing.PaymentsStore == PaymentsStoreKind.DynamoDb
                ? sp.GetRequiredService<DynamoDbPaymentTransactionStore>()
                : sp.GetRequiredService<PostgreSqlPaymentTransactionStore>(),
            sp.GetRequiredService<StoreMetrics>()));

        if (routing.PaymentsStore == PaymentsStoreKind.DynamoDb) services.AddHostedService<DynamoDbStartup>();
        return builder;
    }
}
