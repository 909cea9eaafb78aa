using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ProLifeProsper.Contracts.Migration;

namespace ProLifeProsper.AppHost.Migration;

/// <summary>
/// Calls the API's admin migration endpoints with the operator's key. The status polls carry a W3C <c>traceparent</c>
/// whose sampled flag is off, which the API's parent-based sampler honours (ServiceDefaults): the dashboard's own
/// polls must not become the noise in its trace list. The steps an operator takes are traced as any request.
/// </summary>
public sealed class MigrationAdminClient(Func<CancellationToken, Task<Uri>> apiAddress, Func<CancellationToken, Task<string?>> adminKey) : IDisposable
{
    // No propagator: the traceparent set below, if any, is the only one sent.
    // Steps (a verification of every payment, a cut-over that drains) may take minutes: bounded by the command's own token.
    private readonly HttpClient _http = new(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { Timeout = TimeSpan.FromMinutes(10) };

    /// <summary>GET /api/admin/migration: phase, backfill, outbox, verification, reconciler.</summary>
    public async Task<JsonObject> GetStatusAsync(CancellationToken cancellationToken)
    {
        using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        poll.CancelAfter(TimeSpan.FromSeconds(30));
        using var response = await SendAsync(HttpMethod.Get, MigrationSteps.Route, poll.Token, traced: false);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))!;
    }

    /// <summary>POST /api/admin/migration/{step}; the answer is the caller's to read (a refused step answers 409 saying why).</summary>
    public Task<HttpResponseMessage> TakeStepAsync(MigrationStep step, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, step.Path, cancellationToken, traced: true);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, CancellationToken cancellationToken, bool traced)
    {
        using var request = new HttpRequestMessage(method, new Uri(await apiAddress(cancellationToken), path));
        request.Headers.Add("X-Api-Key", await adminKey(cancellationToken));
        if (!traced) request.Headers.Add("traceparent", $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-00");
        return await _http.SendAsync(request, cancellationToken);
    }

    public void Dispose() => _http.Dispose();
}
