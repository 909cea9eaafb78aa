using Amazon.Runtime;

namespace ProLifeProsper.Testing.Faults;

/// <summary>
/// Gives the AWS SDK HttpClients over the hostile handler (<see cref="ClientConfig.HttpClientFactory"/>). A new
/// HttpClient per request over the one shared handler: the SDK disposes each after use, the handler (and its
/// connection pool, dice and books) lives on with its <see cref="HostileDynamoDb"/>.
/// </summary>
internal sealed class HostileHttpClientFactory(HttpMessageHandler handler) : HttpClientFactory
{
    public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
        new(handler, disposeHandler: false) { Timeout = clientConfig.Timeout ?? TimeSpan.FromSeconds(100) };

    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => true;
}
