using ProLifeProsper.AppHost.Migration;
using ProLifeProsper.LocalInfrastructure;

var builder = DistributedApplication.CreateBuilder(args);
var useContainers = ContainerRuntime.IsAvailable();

// The platform operator's key: generated once, kept in user secrets, visible on the dashboard.
var adminApiKey = builder.AddParameter("admin-api-key",
    new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);

// Where payments go: current/development (PostgreSQL) or highScale/production (DynamoDB).
// `dotnet run --project ProLifeProsper.AppHost -- --Routing:Configuration=highScale` switches it.
var routingConfiguration = builder.AddParameter("routing-configuration", builder.Configuration["Routing:Configuration"] ?? "current");

// PostgreSQL: a container where a runtime answers, otherwise the local binaries as a process.
IResourceBuilder<IResourceWithConnectionString> database;
if (useContainers)
{
    database = builder.AddPostgres("postgres").WithDataVolume().AddDatabase("prolifeprosper");
}
else if (LocalPostgresCluster.FindBinDirectory() is { } postgresBin)
{
    database = builder.AddLocalPostgres("postgres", "prolifeprosper", postgresBin, LocalDataDirectories.For("postgres", builder.Configuration["LocalData:Root"]));
}
else
{
    Console.Error.WriteLine("ProLifeProsper needs Docker (or Podman) or PostgreSQL 15+ installed: install one of them (for example 'apt-get install -y postgresql') and run again.");
    return 1;
}

// DynamoDB: Amazon's local container where a runtime answers, otherwise dynalite (npm) as a process; either keeps its data
// between runs, as PostgreSQL does (the routing phase in PostgreSQL may say DynamoDB holds the payments).
IResourceBuilder<IResourceWithEndpoints> dynamoDb;
try
{
    dynamoDb = useContainers
        ? builder.AddDynamoDbLocalContainer("dynamodb")
        : builder.AddDynalite("dynamodb", LocalDynalite.FindRepositoryRoot(builder.AppHostDirectory), LocalDataDirectories.For("dynamodb", builder.Configuration["LocalData:Root"]));
}
catch (InvalidOperationException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

// The schema, once, before any replica starts: the operator's migrate-database runs to completion, and the replicas
// (which would otherwise each migrate at start-up and race to CREATE DATABASE) wait for it.
var databaseSetup = builder.AddProject<Projects.ProLifeProsper_Operator>("database-setup")
    .WithArgs("migrate-database")
    .WithReference(database, "prolifeprosper")
    .WaitFor(database);

// Two replicas: a routing change made through either is obeyed by both within a second, without a restart.
var api = builder.AddProject<Projects.ProLifeProsper_Api>("api")
    .WithReplicas(2)
    .WithReference(database, "prolifeprosper")
    .WaitFor(database)
    .WaitFor(dynamoDb)
    .WaitForCompletion(databaseSetup)
    .WithEnvironment("Database__MigrateOnStartup", "false")
    .WithEnvironment("Auth__AdminApiKey", adminApiKey)
    .WithEnvironment("Routing__Configuration", routingConfiguration)
    // AWS conventions for a local server: endpoint, region and any credentials.
    .WithEnvironment("AWS_ENDPOINT_URL_DYNAMODB", dynamoDb.GetEndpoint(DynamoDbServerBuilderExtensions.EndpointName))
    .WithEnvironment("AWS_REGION", "us-east-1")
    .WithEnvironment("AWS_ACCESS_KEY_ID", "local")
    .WithEnvironment("AWS_SECRET_ACCESS_KEY", "local")
    .WithEnvironment("DynamoDb__CreateTablesOnStartup", "true")
    .WithHttpHealthCheck("/health");

// The payments migration as a resource under the API: its phase, backfill progress, outbox depth and reconciler step,
// and its steps as commands (the same admin API a script would call).
builder.AddPaymentsMigration("migration", api, adminApiKey);

builder.Build().Run();
return 0;
