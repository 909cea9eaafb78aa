using Amazon.Runtime;

namespace ProLifeProsper.Api.Tests.Infrastructure;

/// <summary>
/// An AWS SDK HTTP handler that runs <paramref name="between"/> just before a request matching <paramref name="matches"/>
/// (its X-Amz-Target operation and body) is sent: when that request is a write's second step, the moment between the two
/// steps, where a client goes away.
/// </summary>
public sealed class BetweenStepsHandler(Func<string, string, bool> matches, Action between) : DelegatingHandler(new SocketsHttpHandler())
{
    public HttpClientFactory ClientFactory => new Factory(this);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var operation = request.Headers.TryGetValues("X-Amz-Target", out var targets) ? targets.First().Split('.')[^1] : "";
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        if (matches(operation, body)) between();
        return await base.SendAsync(request, cancellationToken);
    }

    private sealed class Factory(HttpMessageHandler handler) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(handler, disposeHandler: false);

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => true;
    }
}
