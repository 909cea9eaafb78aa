using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ProLifeProsper.AppHost.Tests;

/// <summary>
/// The whole distributed app, as <c>dotnet run --project ProLifeProsper.AppHost -- --Routing:Configuration=highScale</c>
/// starts it: PostgreSQL and the DynamoDB-compatible server (containers or local processes, whichever this
/// machine has) and the API, wired and healthy, with payments going to DynamoDB.
/// </summary>
public sealed class AppHostTests
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromMinutes(3);

    // A throwaway data folder, so the test never touches a developer's local database.
    private static readonly string DataRoot = Path.Combine(Path.GetTempPath(), $"plp-apphost-test-{Guid.NewGuid():N}");

    [Fact]
    public async Task The_app_host_starts_postgres_dynamodb_and_a_healthy_api_that_takes_a_payment()
    {
        using var cts = new CancellationTokenSource(StartupTimeout);
        var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.ProLifeProsper_AppHost>(
            ["--Parameters:admin-api-key=apphost-test-admin-key", $"--LocalData:Root={DataRoot}", "--Routing:Configuration=highScale"], cts.Token);
        await using var app = await appHost.BuildAsync(cts.Token);
        await app.StartAsync(cts.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("postgres", cts.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("dynamodb", cts.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("api", cts.Token);
        // The dashboard's migration resource follows the API: a fresh database on highScale starts in dynamo-only.
        var migration = await app.ResourceNotifications.WaitForResourceAsync("migration", e => e.Snapshot.State?.Text == "dynamo-only", cts.Token);
        Assert.Contains(migration.Snapshot.Properties, p => p.Name == "migration.reconciler" && (string?)p.Value == "payments are where highScale wants them");

        using var client = app.CreateHttpClient("api");
        var readiness = JsonNode.Parse(await client.GetStringAsync("/health", cts.Token))!;
        Assert.Equal("Healthy", (string)readiness["status"]!);
        Assert.Contains(readiness["checks"]!.AsArray(), c => (string)c!["name"]! == "dynamodb" && (string)c["status"]! == "Healthy");

        client.DefaultRequestHeaders.Add("X-Api-Key", "apphost-test-admin-key");
        var organization = await ReadAsync(await client.PostAsJsonAsync("/api/organizations", new { name = "AppHost Org" }, cts.Token));
        var orgKey = (string)organization["apiKey"]!;
        var orgPath = $"/api/organizations/{organization["id"]}";
        client.DefaultRequestHeaders.Remove("X-Api-Key");
        client.DefaultRequestHeaders.Add("X-Api-Key", orgKey);

        var campaign = await ReadAsync(await client.PostAsJsonAsync($"{orgPath}/campaigns", new { name = "Winter", goalAmountMinor = 10_000, currency = "USD" }, cts.Token));
        var donor = await ReadAsync(await client.PostAsJsonAsync($"{orgPath}/donors", new { email = "a@example.org", name = "A" }, cts.Token));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{orgPath}/payments")
        {
            Content = JsonContent.Create(new { campaignId = campaign["id"]!.ToString(), donorId = donor["id"]!.ToString(), amountMinor = 500, currency = "USD", paymentMethod = new { type = "card", token = "tok_visa" } }),
        };
        request.Headers.Add("Idempotency-Key", "apphost-1");
        var payment = await ReadAsync(await client.SendAsync(request, cts.Token));
        Assert.Equal("succeeded", (string)payment["status"]!);
        // Reads of it, spread over the API's replicas (each keeps its own store figures, and the health answer below comes
        // from whichever replica takes it).
        for (var read = 0; read < 10; read++)
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{orgPath}/payments/{payment["transactionId"]}", cts.Token)).StatusCode);

        client.DefaultRequestHeaders.Remove("X-Api-Key");
        client.DefaultRequestHeaders.Add("X-Api-Key", "apphost-test-admin-key");
        var health = JsonNode.Parse(await client.GetStringAsync("/api/admin/health", cts.Token))!;
        Assert.Equal("highScale", (string)health["routing"]!["configuration"]!);
        Assert.Equal("healthy", (string)health["databases"]!["dynamodb"]!["status"]!);
        Assert.True((long)health["performance"]!["dynamodb"]!["operations"]! >= 2);

        await app.StopAsync(CancellationToken.None);
        TryDelete(DataRoot);
    }

    private static void TryDelete(string directory)
    {
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { /* a leftover temp folder must not fail the test */ }
    }

    private static async Task<JsonObject> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!.AsObject();
    }
}
