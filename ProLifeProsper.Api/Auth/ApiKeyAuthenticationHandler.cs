using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Services;
using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Api.Auth;

/// <summary>
/// Authenticates <c>X-Api-Key</c>: the admin key from configuration, or an organization key looked up
/// by its SHA-256 (cached briefly, so the hot path does not hit the database per request).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<AuthOptions> authOptions,
    IMemoryCache cache,
    IProblemDetailsService problemDetails)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(5);
    private static AdminKeyDigest? _adminDigest;

    private sealed record AdminKeyDigest(string Key, byte[] Digest);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(ApiKeyDefaults.HeaderName, out var values) || values.Count != 1 || string.IsNullOrEmpty(values[0]))
            return AuthenticateResult.NoResult();
        var presented = values[0]!;
        var digest = OrganizationApiKey.Digest(presented); // once per request: it serves the admin check and the lookup

        if (IsAdminKey(digest))
            return Success(new Claim(ClaimTypes.Role, ApiKeyDefaults.AdminRole));

        if (!presented.StartsWith(OrganizationApiKey.Prefix, StringComparison.Ordinal) || presented.Length > 200)
            return AuthenticateResult.Fail("Invalid API key.");

        var hash = OrganizationApiKey.Hash(digest);
        var organizationId = await cache.GetOrCreateAsync($"apikey:{hash}", async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = CacheFor;
            var organizations = Context.RequestServices.GetRequiredService<OrganizationService>();
            return await organizations.FindIdByApiKeyHashAsync(hash, Context.RequestAborted);
        });
        return organizationId is { } id
            ? Success(new Claim(ApiKeyDefaults.OrganizationClaim, id.ToString()))
            : AuthenticateResult.Fail("Invalid API key.");
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status401Unauthorized, "Authentication required.",
            $"Send a valid API key in the {ApiKeyDefaults.HeaderName} header.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "Not allowed.", "This API key may not use this endpoint.");

    private bool IsAdminKey(byte[] presentedDigest)
    {
        var admin = authOptions.CurrentValue.AdminApiKey;
        if (string.IsNullOrEmpty(admin)) return false;
        // Compare digests in constant time so the comparison leaks neither content nor length. The admin key's
        // digest is kept until the configured key changes.
        var known = _adminDigest;
        if (known is null || !ReferenceEquals(known.Key, admin)) _adminDigest = known = new AdminKeyDigest(admin, OrganizationApiKey.Digest(admin));
        return CryptographicOperations.FixedTimeEquals(presentedDigest, known.Digest);
    }

    private AuthenticateResult Success(Claim claim) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([claim], Scheme.Name)), Scheme.Name));

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail, Type = ProblemTypes.For(status == 401 ? "unauthorized" : "forbidden") },
        });
    }
}
