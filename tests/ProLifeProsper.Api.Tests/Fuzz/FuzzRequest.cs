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
public sealed record FuzzRequest(string OperationId, HttpMethod Method, string Path, bool AdminOnly, FuzzCaller Caller, string? Body, string? ContentType,
    IReadOnlyList<KeyValuePair<string, string>> Headers, string Mutation)
{
    /// <summary>The statuses this request may answer, when its one mutation decides it (credentials); otherwise any 4xx.</summary>
    public IReadOnlySet<int>? Expected => Caller switch
    {
        // Without a valid key an address has its own budget: past it, 429 comes before the key is even looked at.
        FuzzCaller.NoKey or FuzzCaller.UnknownKey => new HashSet<int> { 401, 429 },
        FuzzCaller.OtherTenant => new HashSet<int> { 404 },
        FuzzCaller.Tenant when AdminOnly => new HashSet<int> { 403 },
        _ => null,
    };

    public override string ToString() =>
        $"{OperationId} [{Mutation}] as {Caller}: {Method} {Path}" +
        string.Concat(Headers.Select(h => $"\n  {h.Key}: {Shorten(h.Value)}")) +
        (Body is null ? "" : $"\n  body ({ContentType}): {Shorten(Body)}");

    private static string Shorten(string value) => value.Length <= 300 ? value : value[..300] + $"… ({value.Length} chars)";
}
