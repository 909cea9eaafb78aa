using System.CommandLine;
using Npgsql;
using ProLifeProsper.LoadTests.Engine;
using ProLifeProsper.LoadTests.Reporting;
using ProLifeProsper.LoadTests.Targets;
using ProLifeProsper.LocalInfrastructure;
using Spectre.Console;

// Load tests per routing configuration, side by side, with the stores' raw ceilings for comparison.
// dotnet run -c Release --project loadtests/ProLifeProsper.LoadTests -- --configurations current,highScale --scenarios create-payment --vus 16 --duration 15
var configurations = new Option<string>("--configurations")
{
    Description = "Routing configurations (current, development, highScale, production) or migration phases (dual-write, dynamo-primary) to start and test side by side (comma-separated).",
    DefaultValueFactory = _ => "current,highScale",
};
var url = new Option<string?>("--url") { Description = "Test an API that is already running at this loopback URL instead of starting one." };
var adminKey = new Option<string>("--admin-key") { Description = "Admin key of the API given with --url.", DefaultValueFactory = _ => "loadtest-admin-key" };
var scenarios = new Option<string>("--scenarios") { Description = "create-payment, get-payment, list-payments, mixed, campaign-progress (comma-separated) or all.", DefaultValueFactory = _ => "all" };
var model = new Option<LoadModel>("--model") { Description = "closed (virtual users) or open (constant arrival rate).", DefaultValueFactory = _ => LoadModel.Closed };
var vus = new Option<int>("--vus") { Description = "Virtual users (closed model) or worker slots (open model).", DefaultValueFactory = _ => 16 };
var rate = new Option<double>("--rate") { Description = "Arrivals per second (open model).", DefaultValueFactory = _ => 1_000 };
var duration = new Option<int>("--duration") { Description = "Measured seconds per scenario (bounded: at most 600).", DefaultValueFactory = _ => 15 };
// Under load the API's JIT tiers up for ~30 s (the AWS SDK is most of it; docs/performance.md): less measures the JIT.
var warmUp = new Option<int>("--warmup") { Description = "Warm-up seconds per scenario, not counted (the API JIT-compiles for about 30 s under load).", DefaultValueFactory = _ => 60 };
var organizations = new Option<int>("--organizations") { Description = "Organizations, Zipf-distributed in size.", DefaultValueFactory = _ => 50 };
var zipf = new Option<double>("--zipf") { Description = "Zipf exponent of organization sizes.", DefaultValueFactory = _ => 1.0 };
var raw = new Option<bool>("--raw") { Description = "Also measure the raw store ceilings (Npgsql insert, DynamoDB PutItem).", DefaultValueFactory = _ => true };
var apiEnvironment = new Option<string[]>("--api-env")
{
    Description = "Environment variable for the API this tool starts, NAME=VALUE (repeatable), e.g. Payments__GroupCommit=true.",
    AllowMultipleArgumentsPerToken = false,
};
var output = new Option<string>("--output") { Description = "Report folder (a timestamped folder is created inside).", DefaultValueFactory = _ => Path.Combine("loadtests", "reports") };
var maxP99 = new Option<double?>("--max-p99-ms") { Description = "Gate: fail if any scenario's p99 exceeds this." };
var maxErrors = new Option<double?>("--max-error-rate") { Description = "Gate: fail if any scenario's error rate exceeds this (0.01 = 1%)." };
var minRps = new Option<double?>("--min-rps") { Description = "Gate: fail if any scenario's throughput is below this." };
var submitTo = new Option<string?>("--submit-to")
{
    Description = "Submit each measured phase's result and thresholds to this API (loopback; --submit-key) for its cut-over gate (Migration:CutoverRequiresLoadTest).",
};
var submitKey = new Option<string?>("--submit-key") { Description = "Admin key of the API given with --submit-to." };

var root = new RootCommand("ProLifeProsper load tests: scenarios per routing configuration, raw store ceilings, reports and a pass/fail gate.")
{
    configurations, url, adminKey, scenarios, model, vus, rate, duration, warmUp, organizations, zipf, raw, apiEnvironment, output, maxP99, maxErrors, minRps, submitTo, submitKey,
};

var scalePayments = new Option<int>("--payments") { Description = "Payments to load.", DefaultValueFactory = _ => 1_000_000 };
var scaleOrganizations = new Option<int>("--organizations") { Description = "Organizations, Zipf(1) sizes.", DefaultValueFactory = _ => 20_000 };
var scaleSamples = new Option<int>("--samples") { Description = "Sequential requests per operation and organization.", DefaultValueFactory = _ => 100 };
var scaleRecentRate = new Option<int>("--recent-rate") { Description = "Payments/s the largest organization also took over the last hour (a telethon under way).", DefaultValueFactory = _ => 0 };
var scaleOutput = new Option<string>("--output") { Description = "Report folder.", DefaultValueFactory = _ => Path.Combine("loadtests", "reports") };
var scale = new Command("scale", "Load payments of many organizations into a dedicated dynalite with the API's own mapper, then compare read latencies of the largest and a small organization.")
{
    scalePayments, scaleOrganizations, scaleSamples, scaleRecentRate, scaleOutput,
};
scale.SetAction((parse, cancellationToken) => ProLifeProsper.LoadTests.Scale.ScaleRun.RunAsync(parse.GetValue(scalePayments), parse.GetValue(scaleOrganizations),
    parse.GetValue(scaleSamples), Math.Max(0, parse.GetValue(scaleRecentRate)), parse.GetValue(scaleOutput)!, cancellationToken));
root.Subcommands.Add(scale);

root.SetAction(async (parse, cancellationToken) =>
{
    var options = new LoadOptions(parse.GetValue(model), Math.Max(1, parse.GetValue(vus)), Math.Max(1, parse.GetValue(rate)),
        TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(duration), 1, 600)), TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(warmUp), 0, 120)));
    var runs = parse.GetValue(scenarios)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    if (runs.Contains("all")) runs = ApiTarget.Scenarios;
    var thresholds = new Thresholds(parse.GetValue(maxP99), parse.GetValue(maxErrors), parse.GetValue(minRps));
    var given = parse.GetValue(url);
    if (given is not null && !new Uri(given).IsLoopback) { AnsiConsole.MarkupLine("[red]Only loopback targets are allowed.[/]"); return 1; }
    var submit = parse.GetValue(submitTo);
    if (submit is not null && !new Uri(submit).IsLoopback) { AnsiConsole.MarkupLine("[red]Only loopback targets are allowed.[/]"); return 1; }
    var measured = new Dictionary<string, (string Version, string Phase)>(); // configuration → the build and phase measured

    var started = DateTimeOffset.UtcNow;
    var results = new List<ScenarioResult>();
    var outboxes = new List<string>(); // per migration phase: what its outbox held when the load stopped, and how fast it drained
    var runner = new LoadRunner(options);

    async Task RunAsync(string scenario, string configuration, Func<int, CancellationToken, Task<Outcome>> operation)
    {
        await AnsiConsole.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"{scenario} @ {configuration}", maxValue: (options.WarmUp + options.Duration).TotalSeconds);
                using var ticker = new Timer(_ => task.Value = Math.Min(task.MaxValue, task.Value + 0.5), null, 500, 500);
                long done = 0;
                var result = await runner.RunAsync(scenario, configuration, operation, n => Interlocked.Add(ref done, n));
                results.Add(result);
                task.Value = task.MaxValue;
            });
        ConsoleReport.Write(AnsiConsole.Console, results.TakeLast(1));
    }

    if (given is not null)
    {
        using var target = await ApiTarget.PrepareAsync(given, parse.GetValue(adminKey)!, parse.GetValue(organizations), parse.GetValue(zipf), 500);
        measured["given"] = await CutoverGateSubmission.DescribeAsync(given, parse.GetValue(adminKey)!, cancellationToken);
        foreach (var scenario in runs) await RunAsync(scenario, "given", target.Operation(scenario));
    }
    else
    {
        var postgres = await PostgresServer.GetAsync();
        var dynalite = await DynaliteServer.GetAsync();
        const string key = "loadtest-admin-key";
        foreach (var configuration in parse.GetValue(configurations)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            AnsiConsole.MarkupLineInterpolated($"[bold]Starting the API ({configuration})[/]");
            var phase = MigrationPhases.IsPhase(configuration);
            await using var api = await LoadTestApi.StartAsync(phase ? "current" : configuration, postgres.ConnectionStringFor(PostgresServer.NewDatabaseName("load")),
                dynalite.ServiceUrl, key, [.. phase ? MigrationPhases.ApiSettings : [], .. parse.GetValue(apiEnvironment) ?? []]);
            if (phase) await MigrationPhases.EnterAsync(api.Url, key, configuration, cancellationToken);
            using var target = await ApiTarget.PrepareAsync(api.Url, key, parse.GetValue(organizations), parse.GetValue(zipf), 500);
            measured[configuration] = await CutoverGateSubmission.DescribeAsync(api.Url, key, cancellationToken);
            foreach (var scenario in runs) await RunAsync(scenario, configuration, target.Operation(scenario));
            if (phase) outboxes.Add(await MigrationPhases.DescribeOutboxAsync(api.Url, key, configuration, cancellationToken));
        }
        if (parse.GetValue(raw))
        {
            await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionStringFor(PostgresServer.NewDatabaseName("raw")) + ";Maximum Pool Size=256");
            await using (var create = new NpgsqlConnection(postgres.ConnectionStringFor("postgres")))
            {
                await create.OpenAsync(cancellationToken);
                await using var db = new NpgsqlCommand($"CREATE DATABASE {new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Database}", create);
                await db.ExecuteNonQueryAsync(cancellationToken);
            }
            await RunAsync("raw-insert", "postgresql", await RawCeilings.PostgresInsertAsync(dataSource));
            var (groupCommit, batcher) = await RawCeilings.PostgresGroupCommitAsync(dataSource);
            await using (batcher) await RunAsync("raw-group-commit", "postgresql", groupCommit);
            using var dynamo = dynalite.CreateClient();
            await RunAsync("raw-putitem", "dynamodb", await RawCeilings.DynamoPutItemAsync(dynamo));
            await RunAsync("raw-claim-putitem", "dynamodb", await RawCeilings.DynamoClaimPutItemAsync(dynamo));
        }
    }

    // API efficiency: create-payment throughput over the raw single-row ceiling of its store.
    var efficiency = new List<string>();
    foreach (var (configuration, rawName) in new[] { ("current", "raw-insert @ postgresql"), ("development", "raw-insert @ postgresql"), ("highScale", "raw-putitem @ dynamodb"), ("production", "raw-putitem @ dynamodb") })
    {
        var api = results.FirstOrDefault(r => r.Scenario == "create-payment" && r.Configuration == configuration);
        var ceiling = results.FirstOrDefault(r => r.Name == rawName);
        if (api is not null && ceiling is { RequestsPerSecond: > 0 })
            efficiency.Add($"create-payment @ {configuration}: {api.RequestsPerSecond:F0} req/s = {api.RequestsPerSecond / ceiling.RequestsPerSecond:P0} of {rawName} ({ceiling.RequestsPerSecond:F0}/s)");
    }
    // The migration's phases against the PostgreSQL phase of the same run (targets: dual-write ≥ 70%, dynamo-primary ≥ 50%).
    var postgresPhase = results.FirstOrDefault(r => r.Scenario == "create-payment" && r.Configuration is "current" or "development");
    foreach (var phaseResult in results.Where(r => r.Scenario == "create-payment" && MigrationPhases.IsPhase(r.Configuration)))
        if (postgresPhase is { RequestsPerSecond: > 0 })
            efficiency.Add($"create-payment @ {phaseResult.Configuration}: {phaseResult.RequestsPerSecond:F0} req/s = {phaseResult.RequestsPerSecond / postgresPhase.RequestsPerSecond:P0} of create-payment @ {postgresPhase.Configuration} ({postgresPhase.RequestsPerSecond:F0}/s)");
    efficiency.AddRange(outboxes);
    var singleRow = results.FirstOrDefault(r => r.Name == "raw-insert @ postgresql");
    var batched = results.FirstOrDefault(r => r.Name == "raw-group-commit @ postgresql");
    if (singleRow is { RequestsPerSecond: > 0 } && batched is not null)
        efficiency.Add($"raw-group-commit @ postgresql: {batched.RequestsPerSecond:F0} payments/s = {batched.RequestsPerSecond / singleRow.RequestsPerSecond:F1}x the single-row insert ceiling ({singleRow.RequestsPerSecond:F0}/s)");
    var gate = results.Where(r => !r.Scenario.StartsWith("raw-", StringComparison.Ordinal)).SelectMany(thresholds.Check).ToList();
    var report = new LoadReport(started, $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; load generator on the same machine",
        "ProLifeProsper.LoadTests " + string.Join(' ', args), results, efficiency, gate);
    var folder = ReportWriter.WriteAll(report, Path.Combine(parse.GetValue(output)!, started.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture)));

    ConsoleReport.Write(AnsiConsole.Console, results);
    foreach (var line in efficiency) AnsiConsole.WriteLine(line);
    AnsiConsole.MarkupLineInterpolated($"Reports: {Path.GetFullPath(folder)} (report.md, report.csv, report.json, report.html)");
    if (submit is not null)
        foreach (var line in await CutoverGateSubmission.SubmitAsync(submit, parse.GetValue(submitKey) ?? parse.GetValue(adminKey)!, report, thresholds, measured, cancellationToken))
            AnsiConsole.WriteLine("Cut-over gate: " + line);
    if (gate.Count == 0) { AnsiConsole.MarkupLine("[green]Gate: all thresholds met.[/]"); return 0; }
    foreach (var failure in gate) AnsiConsole.MarkupLineInterpolated($"[red]Gate FAILED[/]: {failure}");
    return 2;
});

ConsoleReport.Unwrap(AnsiConsole.Console);
return await root.Parse(args).InvokeAsync();
