using ProLifeProsper.LocalInfrastructure;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Contracts.Migration;

namespace ProLifeProsper.Api.Tests.Apis;

/// <summary>
/// The OpenAPI document clients are generated from, as the running API serves it: it passes Redocly's recommended
/// rules (redocly.yaml) with no error and no warning, and it says how to authenticate, which headers are required and
/// which answers the payment writes can give.
/// </summary>
public sealed class OpenApiContractTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private const string DocumentPath = "/openapi/v1.json";
    private static readonly string[] PaymentWrites = ["CreatePayment", "RefundPayment"];

    [Fact]
    public async Task The_served_document_passes_the_recommended_redocly_lint_without_errors_or_warnings()
    {
        var root = LocalDynalite.FindRepositoryRoot(AppContext.BaseDirectory);
        const string redocly = "node_modules/@redocly/cli/bin/cli.js";
        LocalDynalite.EnsureNodePackages(root, redocly); // npm ci on first use, as for dynalite
        var cli = Path.Combine(root, redocly);
        Assert.True(File.Exists(cli),
            $"Redocly CLI is not installed ({cli} is missing). Run `npm ci` in {root} (it installs the devDependencies in package.json), then run the tests again.");

        var document = Path.Combine(Path.GetTempPath(), $"prolifeprosper-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(document, await factory.CreateClient().GetStringAsync(DocumentPath));
        try
        {
            var (exitCode, output, errors) = await RunNodeAsync(root, cli, "lint", document, "--config", Path.Combine(root, "redocly.yaml"), "--format", "json");
            var report = TryParse(output);
            var totals = report?["totals"];
            var describe = $"redocly lint exited {exitCode}.\n{Problems(report)}\nstdout:\n{output}\nstderr:\n{errors}";
            Assert.True(totals is not null, describe);
            Assert.True(exitCode == 0 && (int)totals!["errors"]! == 0 && (int)totals["warnings"]! == 0, describe);
        }
        finally
        {
            File.Delete(document);
        }
    }

    [Fact]
    public async Task The_migration_steps_are_served_where_the_dashboard_and_the_command_line_take_them()
    {
        var document = JsonNode.Parse(await factory.CreateClient().GetStringAsync(DocumentPath))!;
        foreach (var step in MigrationSteps.All)
        {
            var operation = document["paths"]?[step.Path]?["post"];
            Assert.True(operation is not null, $"POST {step.Path} is not in the document");
            Assert.Equal(step.EndpointName, (string?)operation["operationId"]);
            Assert.Equal(step.Summary, (string?)operation["summary"]);
        }
    }

    [Fact]
    public async Task The_api_key_scheme_is_declared_and_every_operation_requires_it()
    {
        var document = await GetDocumentAsync();

        var scheme = document["components"]!["securitySchemes"]!["ApiKey"]!;
        Assert.Equal("apiKey", (string?)scheme["type"]);
        Assert.Equal("header", (string?)scheme["in"]);
        Assert.Equal("X-Api-Key", (string?)scheme["name"]);
        Assert.Contains("admin key", (string?)scheme["description"]);
        Assert.Contains("organization key", (string?)scheme["description"]);

        // No route is anonymous: each one names the scheme, and the admin-only ones the admin role.
        var operations = Operations(document).ToList();
        Assert.NotEmpty(operations);
        foreach (var (path, _, operation) in operations)
        {
            var requirement = Assert.Single(operation["security"]!.AsArray())!.AsObject();
            var roles = requirement["ApiKey"]!.AsArray().Select(r => (string?)r).ToList();
            var adminOnly = path.StartsWith("/api/admin/", StringComparison.Ordinal) || (string?)operation["operationId"] == "CreateOrganization";
            Assert.Equal(adminOnly ? ["admin"] : [], roles);
            var statuses = Statuses(operation);
            Assert.Contains("401", statuses);
            Assert.Equal(adminOnly, statuses.Contains("403"));
        }
    }

    [Fact]
    public async Task Payment_writes_require_an_idempotency_key_and_declare_429_with_retry_after()
    {
        var document = await GetDocumentAsync();
        var operations = Operations(document).ToDictionary(o => (string)o.Operation["operationId"]!, o => o);

        foreach (var id in PaymentWrites)
        {
            var (_, method, operation) = operations[id];
            Assert.Equal("post", method);
            var header = Assert.Single(operation["parameters"]!.AsArray(), p => (string?)p!["name"] == "Idempotency-Key")!;
            Assert.Equal("header", (string?)header["in"]);
            Assert.True((bool?)header["required"], $"{id}: Idempotency-Key is not required");
            Assert.Equal(255, (int?)header["schema"]!["maxLength"]);
            Assert.Contains("Stripe", (string?)header["description"]);

            var statuses = Statuses(operation);
            foreach (var status in new[] { "400", "401", "404", "409", "413", "415", "422", "429", "503" }) Assert.Contains(status, statuses);
            Assert.Equal("integer", (string?)operation["responses"]!["429"]!["headers"]!["Retry-After"]!["schema"]!["type"]);
            Assert.Contains("payments-store-lost", (string?)operation["responses"]!["503"]!["description"]);
        }

        // Campaign and donor creates take the same header, optionally.
        foreach (var id in new[] { "CreateCampaign", "CreateDonor" })
        {
            var header = Assert.Single(operations[id].Operation["parameters"]!.AsArray(), p => (string?)p!["name"] == "Idempotency-Key")!;
            Assert.False((bool?)header["required"] ?? false, $"{id}: Idempotency-Key is required");
            Assert.Contains("Optional here", (string?)header["description"]);
            Assert.Contains("422", Statuses(operations[id].Operation));
        }

        // Reads have no such header; 429 is everywhere, since rate limiting covers every route.
        Assert.DoesNotContain(operations["GetPayment"].Operation["parameters"]!.AsArray(), p => (string?)p!["name"] == "Idempotency-Key");
        Assert.All(operations.Values, o => Assert.Contains("429", Statuses(o.Operation)));
    }

    [Fact]
    public async Task Every_error_answer_is_problem_details()
    {
        var document = await GetDocumentAsync();
        foreach (var (path, method, operation) in Operations(document))
        {
            foreach (var (status, response) in operation["responses"]!.AsObject().Where(r => int.Parse(r.Key) >= 400))
            {
                var content = response!["content"]!.AsObject();
                var schema = (string?)Assert.Single(content, c => c.Key == "application/problem+json").Value!["schema"]!["$ref"];
                Assert.True(schema is "#/components/schemas/ProblemDetails" or "#/components/schemas/HttpValidationProblemDetails",
                    $"{method} {path} {status}: schema {schema}");
                Assert.False(string.IsNullOrWhiteSpace((string?)response["description"]));
            }
        }
        // 413 and 415 only where there is a body to refuse.
        var getPayment = Operations(document).Single(o => (string?)o.Operation["operationId"] == "GetPayment").Operation;
        Assert.DoesNotContain("413", Statuses(getPayment));
        Assert.DoesNotContain("415", Statuses(getPayment));
    }

    private async Task<JsonNode> GetDocumentAsync() => JsonNode.Parse(await factory.CreateClient().GetStringAsync(DocumentPath))!;

    private static IEnumerable<(string Path, string Method, JsonObject Operation)> Operations(JsonNode document) =>
        from path in document["paths"]!.AsObject()
        from operation in path.Value!.AsObject()
        select (path.Key, operation.Key, operation.Value!.AsObject());

    private static HashSet<string> Statuses(JsonObject operation) => operation["responses"]!.AsObject().Select(r => r.Key).ToHashSet();

    private static async Task<(int ExitCode, string Output, string Errors)> RunNodeAsync(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            // No usage reports and no update checks from a test run.
            Environment = { ["REDOCLY_TELEMETRY"] = "off", ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true" },
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException("Node.js (`node`) is needed to lint the OpenAPI document; install Node.js 20.19+ and run `npm ci`.", e);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await output, await errors);
        }
    }

    private static JsonNode? TryParse(string output)
    {
        // The JSON report is the whole of stdout; anything else (a crash) leaves nothing to parse.
        var start = output.IndexOf('{');
        try
        {
            return start < 0 ? null : JsonNode.Parse(output[start..]);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static string Problems(JsonNode? report) =>
        report?["problems"] is JsonArray problems
            ? string.Join('\n', problems.Select(p =>
                $"{p!["severity"]} {p["ruleId"]} at {p["location"]?[0]?["pointer"]}: {p["message"]}"))
            : "";
}
