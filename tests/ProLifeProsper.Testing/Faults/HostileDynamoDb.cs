using Amazon.DynamoDBv2;
using Amazon.Runtime;

namespace ProLifeProsper.Testing.Faults;

/// <summary>
/// One hostile DynamoDB in front of a real server (dynalite): its profile, its seeded dice (one
/// <see cref="Random"/>, shared by every client made from it, under a lock), its memory of writes still
/// propagating to indexes, and its <see cref="Ledger"/>. Make clients with <see cref="CreateClient"/> or
/// <see cref="HostileDynaliteServerExtensions.CreateClient"/>, or put it into any SDK config with <see cref="Configure"/>.
/// </summary>
public sealed class HostileDynamoDb : IDisposable
{
    private readonly Random _random;
    private readonly Lock _gate = new();
    private readonly HostileDynamoDbHandler _handler;

    public HostileDynamoDb(HostileDynamoDbProfile profile)
    {
        Profile = profile;
        _random = new Random(profile.Seed);
        _handler = new HostileDynamoDbHandler(this) { InnerHandler = new SocketsHttpHandler() };
        HttpClientFactory = new HandlerHttpClientFactory(_handler);
    }

    public HostileDynamoDbProfile Profile { get; }

    public HostileDynamoDbLedger Ledger { get; } = new();

    internal IndexPropagation Propagation { get; } = new();

    /// <summary>For <see cref="ClientConfig.HttpClientFactory"/>: every client configured with it goes through this hostile DynamoDB.</summary>
    public HttpClientFactory HttpClientFactory { get; }

    /// <summary>A client of the server at <paramref name="serviceUrl"/> whose every request goes through this hostile DynamoDB.</summary>
    public IAmazonDynamoDB CreateClient(string serviceUrl) =>
        new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"), Configure(new AmazonDynamoDBConfig
        {
            ServiceURL = serviceUrl,
            AuthenticationRegion = "us-east-1",
            // The code under test retries (and counts) itself; the SDK must not hide the faults from it
            // (as DynamoDbClientFactory configures the API's client).
            MaxErrorRetry = 0,
            MaxStaleConnectionRetries = 0,
            Timeout = TimeSpan.FromSeconds(10),
        }));

    /// <summary>Routes the SDK client made with <paramref name="config"/> through this hostile DynamoDB.</summary>
    public AmazonDynamoDBConfig Configure(AmazonDynamoDBConfig config)
    {
        config.HttpClientFactory = HttpClientFactory;
        return config;
    }

    internal double NextDouble()
    {
        lock (_gate) return _random.NextDouble();
    }

    public void Dispose() => _handler.Dispose();
}
