using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ProLifeProsper.Simulation;

/// <summary>What one HTTP attempt came to: a status and body, or no answer at all (time-out, refused, reset).</summary>
public sealed record Attempt(HttpStatusCode? Status, string Body, bool Replayed)
{
    public bool Answered => Status is not null;

    public bool IsServerError => Status is { } s && (int)s >= 500;
}

/// <summary>Sends requests to the deployment with a per-attempt time-out; a time-out really cuts the request off.</summary>
public sealed class ApiCalls(Deployment deployment) : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };

    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(10) }) { Timeout = Timeout.InfiniteTimeSpan };

    public async Task<Attempt> SendAsync(Random random, HttpMethod method, string path, string? apiKey, object? body, string? idempotencyKey, TimeSpan timeout)
    {
        using var request = new HttpRequestMessage(method, new Uri(deployment.Pick(random), path));
        if (body is not null) request.Content = JsonContent.Create(body, options: Json);
        if (apiKey is not null) request.Headers.Add("X-Api-Key", apiKey);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var cut = new CancellationTokenSource(timeout);
        try
        {
            using var response = await _http.SendAsync(request, cut.Token);
            return new Attempt(response.StatusCode, await response.Content.ReadAsStringAsync(cut.Token), response.Headers.Contains("Idempotent-Replayed"));
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            return new Attempt(null, e.GetType().Name, false);
        }
    }

    public void Dispose() => _http.Dispose();
}
