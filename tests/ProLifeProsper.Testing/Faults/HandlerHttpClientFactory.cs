using Amazon.DynamoDBv2;
using Amazon.Runtime;

namespace ProLifeProsper.Testing.Faults;

/// <summary>
/// Gives the AWS SDK HttpClients over one handler — <see cref="HostileDynamoDb"/>'s, or a test's script
/// (<see cref="ClientConfig.HttpClientFactory"/>). A new HttpClient per request over the one shared handler: the SDK
/// disposes each after use, the handler (and its connection pool, dice and books) lives on with its owner.
/// </summary>
public sealed class HandlerHttpClientFactory(HttpMessageHandler handler) : HttpClientFactory
{
    public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
        new(handler, disposeHandler: false) { Timeout = clientConfig.Timeout ?? TimeSpan.FromSeconds(100) };

    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => true;

    /// <summary>
    /// A client of the local DynamoDB at <paramref name="serviceUrl"/> whose every request goes through
    /// <paramref name="handler"/> (a test's script over the real server); the SDK retries nothing, so the test sees every call.
    /// </summary>
    public static IAmazonDynamoDB DynamoDbClient(string serviceUrl, HttpMessageHandler handler) =>
        new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"), new AmazonDynamoDBConfig
        {
            ServiceURL = serviceUrl, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0, HttpClientFactory = new HandlerHttpClientFactory(handler),
        });
}
