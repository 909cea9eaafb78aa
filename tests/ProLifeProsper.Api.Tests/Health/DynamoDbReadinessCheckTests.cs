using System.Net;
using System.Text;
using Amazon.DynamoDBv2;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Testing.Faults;

namespace ProLifeProsper.Api.Tests.Health;

/// <summary>
/// <c>/health</c> needs no key and is never rate limited, so its DynamoDB look (DescribeTable, which has a low request
/// limit) must not multiply with the probes, nor turn a throttle into "unhealthy" (real dynalite behind a counting line).
/// </summary>
public sealed class DynamoDbReadinessCheckTests(HighScaleApiFactory factory) : IClassFixture<HighScaleApiFactory>
{
    [Fact]
    public async Task Probes_arriving_together_share_one_look_at_the_tables()
    {
        var (check, line, _) = CheckOverALine();
        line.Delay = TimeSpan.FromMilliseconds(300); // the look is still under way while the probes arrive

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => check.CheckHealthAsync(new HealthCheckContext())));

        Assert.All(results, r => Assert.Equal(HealthStatus.Healthy, r.Status));
        Assert.Equal(Tables, line.DescribeTables);
    }

    [Fact]
    public async Task A_throttled_look_keeps_the_last_answer_instead_of_reporting_DynamoDB_down()
    {
        var (check, line, clock) = CheckOverALine();
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);

        line.Throttle = true;
        clock.Advance(TimeSpan.FromSeconds(6)); // the kept answer is stale: the next probe looks again, and is throttled
        var throttled = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, throttled.Status);
        Assert.True(line.DescribeTables > Tables, "the second look must have been made (and throttled)");

        // Throttled for over a minute since the last real answer: what is true now is unknown, and said so.
        clock.Advance(TimeSpan.FromSeconds(55));
        Assert.Equal(HealthStatus.Unhealthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    public async Task A_look_that_fails_names_the_kind_of_failure_but_not_its_message_to_anonymous_probes()
    {
        var (check, line, _) = CheckOverALine();
        // A failure the look expects (no connection), and one it does not.
        line.FailWith = new HttpRequestException("No connection to dynamodb.secret-host.internal:8000");
        var failed = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.NotEqual(HealthStatus.Healthy, failed.Status);
        Assert.DoesNotContain("secret-host", failed.Description);

        (check, line, _) = CheckOverALine();
        line.FailWith = new InvalidOperationException("Credentials for account 123456789012 at secret-host.internal were refused");
        failed = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.NotEqual(HealthStatus.Healthy, failed.Status);
        Assert.Contains("InvalidOperationException", failed.Description);
        Assert.DoesNotContain("secret-host", failed.Description);
    }

    private int Tables => DynamoDbTables.All(factory.Services.GetRequiredService<IOptions<DynamoDbOptions>>().Value).Count();

    private (DynamoDbReadinessCheck Check, CountingLine Line, FakeTimeProvider Clock) CheckOverALine()
    {
        var options = factory.Services.GetRequiredService<IOptions<DynamoDbOptions>>();
        var line = new CountingLine { InnerHandler = new SocketsHttpHandler() };
        var client = HandlerHttpClientFactory.DynamoDbClient(options.Value.ServiceUrl!, line); // set: payments are on DynamoDB here
        var services = new ServiceCollection().AddSingleton<IAmazonDynamoDB>(client).BuildServiceProvider();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        return (new DynamoDbReadinessCheck(factory.Services.GetRequiredService<RoutingStateCache>(), services, options, clock,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<DynamoDbReadinessCheck>.Instance), line, clock);
    }

    /// <summary>Counts DescribeTable requests; can hold them a moment, or answer them as DynamoDB does when asked too often.</summary>
    private sealed class CountingLine : DelegatingHandler
    {
        private int _describeTables;

        public int DescribeTables => Volatile.Read(ref _describeTables);

        public TimeSpan Delay { get; set; }

        public bool Throttle { get; set; }

        public Exception? FailWith { get; set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (!request.Headers.TryGetValues("X-Amz-Target", out var target) || !target.Single().EndsWith(".DescribeTable", StringComparison.Ordinal))
                return await base.SendAsync(request, cancellationToken);
            Interlocked.Increment(ref _describeTables);
            await Task.Delay(Delay, cancellationToken);
            if (FailWith is { } failure) throw failure;
            if (!Throttle) return await base.SendAsync(request, cancellationToken);
            return new HttpResponseMessage(HttpStatusCode.BadRequest)
            {
                Content = new StringContent("""{"__type":"com.amazonaws.dynamodb.v20120810#LimitExceededException","message":"Too many DescribeTable requests"}""",
                    Encoding.UTF8, "application/x-amz-json-1.0"),
            };
        }
    }
}
