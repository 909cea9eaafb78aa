using Microsoft.AspNetCore.Http.HttpResults;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Api.OpenApi;
using ProLifeProsper.Api.StoreMigration;
using ProLifeProsper.Contracts.Migration;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Api.Routing;

namespace ProLifeProsper.Api.Apis;

/// <summary>The operator's routing and migration controls (admin key). Out-of-order steps answer 409 saying what comes first.</summary>
public static class MigrationApi
{
    private const string Operator = "admin-api";

    public static IEndpointRouteBuilder MapMigrationApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapAdminGroup("Migration");

        admin.MapGet("/routing", GetRouting).WithName("GetRouting")
            .WithSummary("The active routing: configuration name, migration phase, version, primary and shadow stores.");
        admin.MapGet("/migration", GetMigration).WithName("GetMigration")
            .WithSummary("Migration progress: phase, backfill checkpoint and rate, outbox depth, last verification.");

        var steps = admin.MapGroup("/migration") // MigrationSteps.Route
            .ProducesProblemWhen(StatusCodes.Status409Conflict,
                "The step cannot run in the current phase (`migration-step-out-of-order`); `detail` says what must come first.");
        void MapStep(MigrationStep step, Delegate handler) =>
            steps.MapPost(step.Name, handler).WithName(step.EndpointName).WithSummary(step.Summary);
        MapStep(MigrationSteps.Start, Start);
        MapStep(MigrationSteps.Verify, Verify);
        MapStep(MigrationSteps.Cutover, Cutover);
        MapStep(MigrationSteps.Finalize, FinalizeMigration);
        MapStep(MigrationSteps.Rollback, Rollback);
        admin.MapPost("/migration/load-tests", SubmitLoadTest).WithName("SubmitLoadTest")
            .WithSummary("Record a load test of one phase (the load-test tool's --submit-to); the answer is the gate's own verdict from its figures. " +
                "With Migration:CutoverRequiresLoadTest a cut-over needs a fresh passing one of dynamo-primary against this build.");
        admin.MapGet("/migration/load-tests/{phase}", GetLatestLoadTest).WithName("GetLatestLoadTest")
            .WithSummary("The newest load test submitted for a phase (postgres, dual-write, dynamo-primary, dynamo-only).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Created<LoadTestVerdict>> SubmitLoadTest(LoadTestReportSubmission submission, CutoverGate gate, CancellationToken cancellationToken)
    {
        var verdict = await gate.SubmitAsync(submission, cancellationToken);
        return TypedResults.Created($"/api/admin/migration/load-tests/{verdict.Phase}", verdict);
    }

    public static async Task<Ok<LoadTestVerdict>> GetLatestLoadTest(string phase, CutoverGate gate, CancellationToken cancellationToken)
    {
        MigrationPhase parsed;
        try
        {
            parsed = MigrationPhases.Parse(phase);
        }
        catch (FormatException)
        {
            throw new DomainException(DomainErrorKind.NotFound, "load-test-not-found", "The load test was not found.", $"'{phase}' is not a migration phase.");
        }
        return await gate.LatestAsync(parsed, cancellationToken) is { } verdict ? TypedResults.Ok(verdict)
            : throw new DomainException(DomainErrorKind.NotFound, "load-test-not-found", "The load test was not found.", $"No load test of '{phase}' has been submitted.");
    }

    public static async Task<Ok<RoutingStatus>> GetRouting(MigrationCoordinator migration, CancellationToken cancellationToken) =>
        TypedResults.Ok(await migration.GetRoutingAsync(cancellationToken));

    public static async Task<Ok<MigrationStatus>> GetMigration(MigrationCoordinator migration, MigrationReconciler reconciler, CancellationToken cancellationToken) =>
        TypedResults.Ok(await migration.GetStatusAsync(cancellationToken) with
        {
            Reconciler = await reconciler.DescribeAsync(cancellationToken),
            ApiVersion = ApiVersion.Current,
        });

    public static async Task<Ok<MigrationStatus>> Start(MigrationCoordinator migration, CancellationToken cancellationToken) =>
        TypedResults.Ok(await migration.StartAsync(Operator, cancellationToken));

    public static async Task<Ok<VerificationResult>> Verify(MigrationCoordinator migration, CancellationToken cancellationToken) =>
        TypedResults.Ok(await migration.VerifyAsync(Operator, cancellationToken));

    public static async Task<Ok<RoutingStatus>> Cutover(MigrationCoordinator migration, CancellationToken cancellationToken) =>
        TypedResults.Ok(await migration.CutoverAsync(Operator, cancellationToken));

    public static async Task<Ok<RoutingStatus>> FinalizeMigration(MigrationCoordinator migration, CancellationToken cancellationToken) =>
        TypedResults.Ok(await migration.FinalizeAsync(Operator, cancellationToken));

    public static async Task<Results<Ok<RoutingStatus>, Accepted<RoutingStatus>>> Rollback(MigrationCoordinator migration, CancellationToken cancellationToken)
    {
        var result = await migration.RollbackAsync(Operator, cancellationToken);
        return result.Finished ? TypedResults.Ok(result.Routing) : TypedResults.Accepted("/api/admin/migration", result.Routing);
    }
}
