using System.Text.Json;
using ProLifeProsper.Api.StoreMigration;
using ProLifeProsper.Api.Storage.DynamoDb;
using Spectre.Console;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.Apis.Contracts;

namespace ProLifeProsper.Api.Extensions;

/// <summary>
/// One-off operator commands run by the API binary instead of serving, with the API's own configuration:
/// <c>create-dynamodb-tables</c>, <c>plan</c> (capacity and cost), and <c>migrate status|start|verify|cutover|finalize|rollback [--watch]</c> for scripts.
/// Running API instances obey a step within a second; the backfill itself runs inside them.
/// </summary>
public static class AdminCommands
{
    public const string CreateDynamoDbTables = "create-dynamodb-tables";
    public const string Migrate = "migrate";
    public const string Plan = "plan";

    /// <summary>Runs the command named in <paramref name="args"/>, if any; true when one ran (the host should then exit).</summary>
    public static async Task<bool> TryRunAsync(this WebApplication app, string[] args)
    {
        if (args.Contains(CreateDynamoDbTables))
        {
            await app.Services.GetRequiredService<DynamoDbTableInitializer>().EnsureTablesAsync(CancellationToken.None);
            app.Logger.LogInformation("DynamoDB tables are in place");
            return true;
        }
        if (args.FirstOrDefault() == Plan)
        {
            Environment.ExitCode = Capacity.CapacityCommand.Run(args[1..]);
            return true;
        }
        var at = Array.IndexOf(args, Migrate);
        if (at < 0) return false;
        Environment.ExitCode = await MigrateAsync(app.Services, args.Skip(at + 1).ToArray());
        return true;
    }

    private static async Task<int> MigrateAsync(IServiceProvider services, string[] args)
    {
        var step = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "status";
        var watch = args.Contains("--watch");
        var routing = services.GetRequiredService<RoutingStateCache>();
        await services.GetRequiredService<RoutingStateRepository>().EnsureAsync(routing.InitialPhase, CancellationToken.None);
        await routing.RefreshAsync(CancellationToken.None);
        var migration = services.GetRequiredService<MigrationCoordinator>();
        const string by = "migrate-cli";
        try
        {
            object result = step switch
            {
                "status" => await migration.GetStatusAsync(CancellationToken.None),
                "start" => await migration.StartAsync(by, CancellationToken.None),
                "verify" => await migration.VerifyAsync(by, CancellationToken.None),
                "cutover" => await migration.CutoverAsync(by, CancellationToken.None),
                "finalize" => await migration.FinalizeAsync(by, CancellationToken.None),
                "rollback" => await migration.RollbackAsync(by, CancellationToken.None),
                _ => throw new ArgumentException($"Unknown step '{step}': use status, start, verify, cutover, finalize or rollback."),
            };
            Console.WriteLine(JsonSerializer.Serialize(result, JsonSerializerOptions.Web)); // one line of JSON, for scripts
            if (watch) await WatchBackfillAsync(migration);
            return result is VerificationResult { Clean: false } ? 2 : 0;
        }
        catch (Domain.Common.DomainException e)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]{e.Title}[/] {e.Message}");
            return 1;
        }
    }

    // A progress bar over the backfill that the API instances run, until it completes.
    private static Task WatchBackfillAsync(MigrationCoordinator migration) =>
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("backfill");
                while (true)
                {
                    var status = await migration.GetStatusAsync(CancellationToken.None);
                    task.MaxValue = Math.Max(1, status.Backfill.Total);
                    task.Value = status.Backfill.Copied;
                    task.Description = $"backfill {status.Backfill.Copied}/{status.Backfill.Total} ({status.Backfill.ItemsPerSecond}/s), outbox {string.Join(", ", status.OutboxDepth.Select(d => $"{d.Key} {d.Value}"))}";
                    if (status.Backfill.IsComplete || status.Routing.Phase is "postgres") { task.Value = task.MaxValue; return; }
                    await Task.Delay(500);
                }
            });
}
