namespace ProLifeProsper.Api.StoreMigration;

public static class StoreMigrationExtensions
{
    /// <summary>
    /// The online migration of payments between the stores (<c>AddDatabaseRouter</c> first): the outbox drainer and mirror,
    /// backfill, verifier, reverse copy, cut-over gate, coordinator (the operator's steps) and reconciler (the automatic ones).
    /// </summary>
    public static IHostApplicationBuilder AddStoreMigration(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MigrationOptions>().BindConfiguration(MigrationOptions.SectionName)
            // An intent is dropped as never acknowledged only once no write of it can still land: a write step (the record,
            // then the payment) each within the write time-out.
            .Validate<Microsoft.Extensions.Options.IOptions<Storage.DynamoDb.DynamoDbOptions>>((o, dynamo) => o.IntentGrace >= 2 * dynamo.Value.WriteTimeout + TimeSpan.FromSeconds(5),
                "Migration:IntentGrace must be at least two DynamoDb:WriteTimeout and 5 s (a DynamoDB intent is dropped only once no write of it can land).")
            .ValidateOnStart();
        services.AddSingleton<MigrationMetrics>();
        services.AddSingleton<PaymentMirror>();
        services.AddSingleton<OutboxDrainer>();
        services.AddSingleton<Backfill>();
        services.AddSingleton<MigrationVerifier>();
        services.AddSingleton<ReverseCopy>();
        services.AddSingleton<MigrationCoordinator>();
        services.AddSingleton<CutoverGate>();

        // After the router's start-up: background work starts once the routing state is loaded.
        services.AddHostedService(sp => sp.GetRequiredService<OutboxDrainer>());
        services.AddHostedService<BackfillWorker>();
        services.AddHostedService<ReverseCopyWorker>();
        services.AddSingleton<MigrationReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<MigrationReconciler>());
        return builder;
    }
}
