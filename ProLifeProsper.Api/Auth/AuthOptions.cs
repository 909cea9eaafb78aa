namespace ProLifeProsper.Api.Auth;

/// <summary>Configuration section <c>Auth</c>.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>The platform operator's key (<c>Auth:AdminApiKey</c>): creates organizations and may read any of them.</summary>
    public string? AdminApiKey { get; set; }
}
