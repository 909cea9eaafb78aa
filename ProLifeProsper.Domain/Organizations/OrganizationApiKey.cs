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

    /// <summary>What is stored and looked up: the hex SHA-256 of the key.</summary>
    public static string Hash(string apiKey) => Hash(Digest(apiKey));

    public static string Hash(byte[] digest) => Convert.ToHexStringLower(digest);

    /// <summary>The SHA-256 of any presented key (also what the admin key is compared by, in constant time).</summary>
    public static byte[] Digest(string apiKey) => SHA256.HashData(Encoding.UTF8.GetBytes(apiKey));

    private static string Base64UrlEncode(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);
}
