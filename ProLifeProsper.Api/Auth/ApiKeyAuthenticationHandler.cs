using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.RateLimiting;
using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Api.Auth;

/// <summary>
/// Authenticates <c>X-Api-Key</c>: the admin key from configuration, or an organization key looked up by its SHA-256
/// (through <see cref="ApiKeyCache"/>, so the hot path does not hit the database per request). A key that cannot be one of
/// ours is refused without a look-up, and so is any unknown key from an address that has used up its budget of
/// unauthenticated requests (the rate limiter then answers 429).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<AuthOptions> authOptions,
    ApiKeyCache keys,
    RequestRateLimiter rateLimiter,
    TimeProvider time,
    IProblemDetailsService problemDetails)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
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

        if (!OrganizationApiKey.IsWellFormed(presented))
            return AuthenticateResult.Fail("Invalid API key.");

        var hash = OrganizationApiKey.Hash(digest);
        if (!keys.TryGet(hash, out var grant))
        {
            if (!rateLimiter.MayLookUpKeys(Context) && !keys.WasRecentlyValid(hash))
                return AuthenticateResult.Fail("Too many requests without a valid API key from this address.");
            grant = await keys.LookUpAsync(hash, Context.RequestServices.GetRequiredService<ApiKeyService>().FindGrantAsync, Context.RequestAborted);
        }
        // Expiry is checked on every request, so a rotated key stops at the end of its overlap even while it is cached.
        return grant is not null && grant.IsActiveAt(time.GetUtcNow())
            ? Success(new Claim(ApiKeyDefaults.OrganizationClaim, grant.OrganizationId.ToString()))
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
