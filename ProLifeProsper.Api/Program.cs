using ProLifeProsper.Api.Apis;
using ProLifeProsper.Api.Errors;
using ProLifeProsper.Api.Extensions;
using Scalar.AspNetCore;

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

/// <summary>Entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
