using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ProLifeProsper.Contracts.Migration;

namespace ProLifeProsper.AppHost.Migration;

public static class PaymentsMigrationBuilderExtensions
{
    /// <summary>How often the dashboard re-reads the migration's status (and at once after a command).</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(3);

    private const string WaitingState = "Waiting for the API";

    /// <summary>
    /// Adds the <see cref="PaymentsMigrationResource"/> under <paramref name="api"/>: its state and properties follow
    /// <c>GET /api/admin/migration</c>, and its commands take the migration's steps and say what each did.
    /// </summary>
    public static IResourceBuilder<PaymentsMigrationResource> AddPaymentsMigration(this IDistributedApplicationBuilder builder, string name,
        IResourceBuilder<ProjectResource> api, IResourceBuilder<ParameterResource> adminApiKey)
    {
        var endpoint = api.GetEndpoint("http");
        var client = new MigrationAdminClient(
            async ct => new Uri(await endpoint.GetValueAsync(ct) ?? throw new InvalidOperationException("The API has no http endpoint yet.")),
            ct => adminApiKey.Resource.GetValueAsync(ct).AsTask());
        var refresh = new SemaphoreSlim(0, 1);
        void RefreshNow()
        {
            if (refresh.CurrentCount == 0) refresh.Release();
        }

        var migration = builder.AddResource(new PaymentsMigrationResource(name))
            .WithParentRelationship(api)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "Migration",
                State = new ResourceStateSnapshot(WaitingState, KnownResourceStateStyles.Info),
                Properties = [],
            })
            .ExcludeFromManifest()
            .OnInitializeResource((resource, e, cancellationToken) =>
            {
                var stopping = e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
                _ = Task.Run(() => WatchAsync(resource, client, refresh, e.Notifications, e.Logger, stopping), stopping);
                return Task.CompletedTask;
            });

        foreach (var step in MigrationSteps.All)
        {
            migration.WithCommand($"migration-{step.Name}", step.DisplayName, async context =>
            {
                try
                {
                    using var response = await client.TakeStepAsync(step, context.CancellationToken);
                    return MigrationStepResult.Describe(step.Name, response.StatusCode, await response.Content.ReadAsStringAsync(context.CancellationToken));
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !context.CancellationToken.IsCancellationRequested)
                {
                    // No answer is not a refusal: the step may have gone through (a long verification or cut-over).
                    return CommandResults.Failure($"The API gave no answer to {step.Name} ({e.GetType().Name}): the step may have been applied; the phase shown here is the truth.");
                }
                finally
                {
                    RefreshNow();
                }
            }, new CommandOptions
            {
                Description = step.Summary,
                ConfirmationMessage = step.Confirmation,
                IconName = "ArrowSwap",
                UpdateState = context => context.ResourceSnapshot.State?.Text == WaitingState ? ResourceCommandState.Disabled : ResourceCommandState.Enabled,
            });
        }
        return migration;
    }

    private static async Task WatchAsync(PaymentsMigrationResource resource, MigrationAdminClient client, SemaphoreSlim refresh,
        ResourceNotificationService notifications, ILogger logger, CancellationToken stopping)
    {
        var answering = false;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var status = await client.GetStatusAsync(stopping);
                await notifications.PublishUpdateAsync(resource, s => s with
                {
                    State = MigrationStatusView.State(status),
                    Properties = MigrationStatusView.Properties(status),
                });
                answering = true;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                // Starting, restarting, stopped, or refusing (a wrong admin key): say so once, keep the last figures in the
                // properties. Anything (an answer that is not JSON) is caught: the watch must not die unobserved.
                var state = e is HttpRequestException { StatusCode: { } code } ? $"API refused the status ({(int)code})" : "API not answering";
                if (answering || e is HttpRequestException { StatusCode: not null }) logger.LogWarning("GET /api/admin/migration: {Problem}", e.Message);
                if (answering || e is HttpRequestException { StatusCode: not null })
                    await notifications.PublishUpdateAsync(resource, s => s with { State = new ResourceStateSnapshot(state, KnownResourceStateStyles.Warn) });
                answering = false;
            }
            try
            {
                await refresh.WaitAsync(PollInterval, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
