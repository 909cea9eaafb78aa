using System.CommandLine;
using ProLifeProsper.Operator.Capacity;

namespace ProLifeProsper.Operator;

/// <summary>
/// The operator's commands, one entry point: <c>migrate-database</c>, <c>create-dynamodb-tables</c>, <c>migrate …</c>
/// (the payments migration's steps, for scripts) and <c>plan</c> (capacity and cost, arithmetic only).
/// <c>dotnet run --project ProLifeProsper.Operator -- --help</c>.
/// </summary>
public static class OperatorCommand
{
    // A named entry point, not top-level statements: ASP.NET Core (which the API brings in) makes a top-level Program
    // public, and it would clash with the API's own Program wherever both are referenced (the tests).
    public static Task<int> Main(string[] args) => Create().Parse(args).InvokeAsync();

    public static RootCommand Create() => new("ProLifeProsper operator commands. Those that act on a deployment read the API's configuration " +
        "(appsettings, user secrets, environment variables; or --Section:Key=value after the command).")
    {
        MigrateDatabaseCommand.Create(),
        CreateDynamoDbTablesCommand.Create(),
        MigrateCommand.Create(),
        PlanCommand.Create(),
    };
}
