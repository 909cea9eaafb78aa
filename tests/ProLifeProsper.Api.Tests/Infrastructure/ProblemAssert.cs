using System.Net;
using System.Text.Json.Nodes;

namespace ProLifeProsper.Api.Tests.Infrastructure;

/// <summary>Checks of RFC 7807 answers: status, media type and the stable problem type.</summary>
public static class ProblemAssert
{
    /// <summary>
    /// A response body without its trace id: random hex that may hold any run of digits by chance (CI drew "1111" and
    /// "7777"), so a check that a body echoes no digits of what was sent must leave it out.
    /// </summary>
    public static string WithoutTraceId(string body) => System.Text.RegularExpressions.Regex.Replace(body, "\"traceId\":\"[^\"]*\"", "");

    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(body)!.AsObject();
        Assert.Equal(ProblemTypes.For(code), (string?)problem["type"]);
        return problem;
    }

    /// <summary>The Retry-After header, in whole seconds, which must be there and positive.</summary>
    public static TimeSpan RetryAfter(HttpResponseMessage response)
    {
        var delta = response.Headers.RetryAfter?.Delta;
        Assert.True(delta is not null, "no Retry-After header (in seconds)");
        Assert.True(delta > TimeSpan.Zero, $"Retry-After is {delta}");
        return delta.Value;
    }
}
