using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.StoreMigration;
using ProLifeProsper.Contracts.Migration;
using Spectre.Console;

namespace ProLifeProsper.Operator;

/// <summary>
/// <c>migrate [status|start|verify|cutover|finalize|rollback] [--watch]</c>: the payments migration's steps for scripts,
/// the same coordinator the admin API calls. Running API instances obey a step within a second; the backfill itself runs
/// inside them. Prints one line of JSON; exit code 1 when the step is refused, 2 when a verification is not clean.
/// </summary>
internal static class MigrateCommand
{
    private const string By = "migrate-cli";
    private const string Status = "status";

    public static Command Create()
    {
        var watch = new Option<bool>("--watch") { Description = "Then show the backfill's progress until it completes.", Recursive = true };
        var migrate = new Command("migrate", "The payments migration between PostgreSQL and DynamoDB (status without a step).") { watch };
        migrate.SetHostAction((parse, host, cancellationToken) => RunAsync(parse, host, Status, watch, cancellationToken));
        IEnumerable<(string Step, string Description)> steps =
            [(Status, "Phase, backfill checkpoint and rate, outbox depth, last verification."), .. MigrationSteps.All.Select(s => (s.Name, s.Summary))];
        foreach (var (step, description) in steps)
        {
            var command = new Command(step, description);
            command.SetHostAction((parse, host, cancellationToken) => RunAsync(parse, host, step, watch, cancellationToken));
            migrate.Subcommands.Add(command);
        }
        return migrate;
    }

    private static async Task<int> RunAsync(ParseResult parse, IHost host, string step, Option<bool> watch, CancellationToken cancellationToken)
    {
        var services = host.Services;
        var console = OperatorConsole.For(parse);
        var routing = services.GetRequiredService<RoutingStateCache>();
        await services.GetRequiredService<RoutingStateRepository>().EnsureAsync(routing.InitialPhase, cancellationToken);
        await routing.RefreshAsync(cancellationToken);
        var migration = services.GetRequiredService<MigrationCoordinator>();
        try
        {
            object result = step switch
            {
                Status => await migration.GetStatusAsync(cancellationToken),
                _ when step == MigrationSteps.Start.Name => await migration.StartAsync(By, cancellationToken),
                _ when step == MigrationSteps.Verify.Name => await migration.VerifyAsync(By, cancellationToken),
                _ when step == MigrationSteps.Cutover.Name => await migration.CutoverAsync(By, cancellationToken),
                _ when step == MigrationSteps.Finalize.Name => await migration.FinalizeAsync(By, cancellationToken),
                _ when step == MigrationSteps.Rollback.Name => await migration.RollbackAsync(By, cancellationToken),
                _ => throw new InvalidOperationException($"No migration step '{step}'."),
            };
            parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(result, JsonSerializerOptions.Web)); // one line of JSON, for scripts
            if (parse.GetValue(watch)) await WatchBackfillAsync(console, migration, cancellationToken);
            return result is VerificationResult { Clean: false } ? 2 : 0;
        }
        catch (Domain.Common.DomainException e)
        {
            console.MarkupLineInterpolated($"[red]{e.Title}[/] {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Not a refusal: the step may or may not have been applied (a connection lost mid-cut-over). A script must look.
            console.MarkupLineInterpolated($"[red]Outcome unknown[/] ({e.GetType().Name}: {e.Message}): check with 'migrate status' before doing anything else.");
            return 3;
        }
    }

    // A progress bar over the backfill that the API instances run, until it completes.
    private static Task WatchBackfillAsync(IAnsiConsole console, MigrationCoordinator migration, CancellationToken cancellationToken) =>
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("backfill");
                while (true)
                {
                    var status = await migration.GetStatusAsync(cancellationToken);
                    task.MaxValue = Math.Max(1, status.Backfill.Total);
                    task.Value = status.Backfill.Copied;
                    task.Description = $"backfill {status.Backfill.Copied}/{status.Backfill.Total} ({status.Backfill.ItemsPerSecond}/s), outbox {string.Join(", ", status.OutboxDepth.Select(d => $"{d.Key} {d.Value}"))}";
                    if (status.Backfill.IsComplete || status.Routing.Phase is "postgres") { task.Value = task.MaxValue; return; }
                    await Task.Delay(500, cancellationToken);
                }
            });
}
