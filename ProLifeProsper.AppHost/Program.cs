using ProLifeProsper.LocalInfrastructure;

var builder = DistributedApplication.CreateBuilder(args);

// The platform operator's key: generated once, kept in user secrets, visible on the dashboard.
var adminApiKey = builder.AddParameter("admin-api-key",
    new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);

// PostgreSQL: a container where a runtime answers, otherwise the local binaries as a process.
IResourceBuilder<IResourceWithConnectionString> database;
if (ContainerRuntime.IsAvailable())
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

builder.AddProject<Projects.ProLifeProsper_Api>("api")
    .WithReference(database, "prolifeprosper")
    .WaitFor(database)
    .WithEnvironment("Auth__AdminApiKey", adminApiKey)
    .WithHttpHealthCheck("/health");

builder.Build().Run();
return 0;
