namespace ProLifeProsper.Api.Tests.Fuzz;

/// <summary>How a fuzzed request authenticates.</summary>
public enum FuzzCaller
{
    Tenant,
    OtherTenant,
    Admin,
    NoKey,
    UnknownKey,
}

/// <summary>One generated request that is wrong in at least one way, with what is wrong with it (printed on failure).</summary>
public sealed record FuzzRequest(string OperationId, HttpMethod Method, string Path, FuzzCaller Caller, string? Body, string? ContentType,
    IReadOnlyList<KeyValuePair<string, string>> Headers, string Mutation)
{
    public override string ToString() =>
        $"{OperationId} [{Mutation}] as {Caller}: {Method} {Path}" +
        string.Concat(Headers.Select(h => $"\n  {h.Key}: {Shorten(h.Value)}")) +
        (Body is null ? "" : $"\n  body ({ContentType}): {Shorten(Body)}");

    private static string Shorten(string value) => value.Length <= 300 ? value : value[..300] + $"… ({value.Length} chars)";
}
