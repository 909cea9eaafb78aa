using System.Security.Cryptography;
using System.Text;

namespace ProLifeProsper.Domain.Organizations;

/// <summary>
/// Organization API keys: 256 random bits, so a fast SHA-256 is enough to store them safely
/// (slow password hashes guard low-entropy secrets, which these are not).
/// </summary>
public static class OrganizationApiKey
{
    public const string Prefix = "plp_org_";

    public static string Generate() => Prefix + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string apiKey) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));

    private static string Base64UrlEncode(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);
}
