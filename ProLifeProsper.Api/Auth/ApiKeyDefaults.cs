namespace ProLifeProsper.Api.Auth;

public static class ApiKeyDefaults
{
    public const string Scheme = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string OrganizationClaim = "organization_id";
    public const string AdminRole = "admin";
    public const string AdminPolicy = "Admin";
}
