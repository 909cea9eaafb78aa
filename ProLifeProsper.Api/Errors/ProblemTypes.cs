namespace ProLifeProsper.Api;

/// <summary>Stable ProblemDetails <c>type</c> URIs: one per error code, documented under docs/errors.</summary>
public static class ProblemTypes
{
    public const string BaseUri = "https://prolifeprosper.org/problems/";

    public static string For(string code) => BaseUri + code;
}
