using ProLifeProsper.Api.Apis;
using ProLifeProsper.Api.Auth;
using ProLifeProsper.Api.Errors;
using ProLifeProsper.Api.Extensions;
using Scalar.AspNetCore;

// The operator's commands moved to ProLifeProsper.Operator: one given here must not start a whole API replica instead
// (which would migrate, take background leases and never exit).
if (args is [var command, ..] && command is "migrate" or "migrate-database" or "create-dynamodb-tables" or "plan")
{
    Console.Error.WriteLine($"'{command}' is an operator command now: dotnet run --project ProLifeProsper.Operator -- {string.Join(' ', args)}");
    return 2;
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseUntracedRequests();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseJsonCharsetCheck();
app.UseAuthentication();
app.UseRateLimiter(); // after authentication: budgets are per organization, or per address without a valid key
app.UseAuthorization();
app.UseOrganizationAccess(); // before any endpoint reads its input

app.MapDefaultEndpoints();
app.MapOpenApi();
if (app.Environment.IsDevelopment())
{
    app.MapScalarApiReference();
}

app.MapOrganizationsApi();
app.MapApiKeysApi();
app.MapCampaignsApi();
app.MapDonorsApi();
app.MapPaymentsApi();
app.MapAnalyticsApi();
app.MapAdminApi();
app.MapMigrationApi();
app.MapCapacityApi();

app.Run();
return 0;

/// <summary>Entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
