using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ProLifeProsper.Api.Capacity;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.LocalInfrastructure;
using ProLifeProsper.Operator;

namespace ProLifeProsper.Api.Tests.Operator;

/// <summary>The operator's entry point (ProLifeProsper.Operator), run in-process with its output captured.</summary>
public sealed class OperatorCommandTests
{
    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var exitCode = await OperatorCommand.Create().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = output });
        return (exitCode, output.ToString());
    }

    [Fact]
    public async Task Plan_prints_the_planners_answer_for_the_profile_given_as_options()
    {
        var (exitCode, output) = await RunAsync("plan", "--organizations", "500", "--peak-tps", "100", "--monthly-transactions", "250000", "--shards", "4", "--json");

        Assert.Equal(0, exitCode);
        var expected = CapacityPlanner.Plan(new TrafficProfile { Organizations = 500, PeakTransactionsPerSecond = 100, MonthlyTransactions = 250_000, WriteShards = 4 });
        Assert.Equal(JsonSerializer.Serialize(expected, JsonSerializerOptions.Web), JsonNode.Parse(output)!.ToJsonString(JsonSerializerOptions.Web));
    }

    [Fact]
    public async Task Plan_refuses_an_impossible_profile_with_the_reason()
    {
        var (exitCode, output) = await RunAsync("plan", "--shards", "0");

        Assert.Equal(1, exitCode);
        Assert.Contains("writeShards must be from 1 to 1000", output);
    }

    [Fact]
    public async Task A_migration_step_that_does_not_exist_is_refused_before_anything_runs()
    {
        var (exitCode, output) = await RunAsync("migrate", "jump");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("jump", output);
    }

    [Fact]
    public async Task Migrate_database_creates_and_migrates_the_database_named_by_the_configuration_after_the_command()
    {
        var server = await PostgresServer.GetAsync();
        var connectionString = server.ConnectionStringFor(PostgresServer.NewDatabaseName("operator"));

        var (exitCode, output) = await RunAsync("migrate-database", $"--ConnectionStrings:prolifeprosper={connectionString}");

        Assert.True(exitCode == 0, output);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM \"__EFMigrationsHistory\"", connection);
        await using var context = new ProLifeProsperDbContext(new DbContextOptionsBuilder<ProLifeProsperDbContext>().UseNpgsql(connectionString).Options);
        Assert.Equal(context.Database.GetMigrations().Count(), (long)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public void The_core_services_alone_serve_the_workers_they_register()
    {
        // The settlement and refund pay-out workers resolve the payment service per pass: a host with only the core
        // services (the operator's) must be able to give it, or a started one would fail every pass.
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new Microsoft.Extensions.Hosting.HostApplicationBuilderSettings
        {
            Args = ["--ConnectionStrings:prolifeprosper=Host=127.0.0.1;Database=unused;Username=x;Password=x"],
        });
        Extensions.ApplicationServiceExtensions.AddApplicationCore(builder);
        using var host = builder.Build();
        using var scope = host.Services.CreateScope();
        Assert.NotNull(scope.ServiceProvider.GetRequiredService<Services.PaymentTransactionService>());
    }

    [Fact]
    public async Task The_API_refuses_an_operator_command_instead_of_starting_a_replica()
    {
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            var entry = typeof(Program).Assembly.EntryPoint!;
            var exitCode = await Task.Run(() => entry.Invoke(null, [new[] { "migrate", "status" }]));
            Assert.Equal(2, exitCode);
        }
        finally
        {
            Console.SetError(original);
        }
        Assert.Contains("ProLifeProsper.Operator", error.ToString());
    }
}
