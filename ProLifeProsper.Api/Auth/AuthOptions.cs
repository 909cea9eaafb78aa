namespace ProLifeProsper.Api.Auth;

/// <summary>Configuration section <c>Auth</c>.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>The platform operator's key (<c>Auth:AdminApiKey</c>): creates organizations and may read any of them.</summary>
    public string? AdminApiKey { get; set; }

    /// <summary>How long the keys a rotation replaces keep working, when the call does not say (<c>Auth:KeyRotationOverlap</c>).</summary>
    public TimeSpan KeyRotationOverlap { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The authentication cache of organization keys (<c>Auth:KeyCache</c>).</summary>
    public ApiKeyCacheOptions KeyCache { get; set; } = new();
}

/// <summary>
/// Bounds of the organization-key cache: a known key is re-read from the database every <see cref="HitTtl"/> (so a revoked
/// key stops working on every replica within that time), an unknown one every <see cref="MissTtl"/>.
/// </summary>
public sealed class ApiKeyCacheOptions
{
    /// <summary>Most keys (known and unknown together) held per instance; unknown ones are dropped first when it is full.</summary>
    public int Size { get; set; } = 10_000;

    public TimeSpan HitTtl { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MissTtl { get; set; } = TimeSpan.FromSeconds(2);
}
