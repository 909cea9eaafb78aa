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

    private const int RandomBytes = 32;

    private static readonly System.Buffers.SearchValues<char> Base64UrlAlphabet =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>The length of every key this class makes: the prefix and 32 bytes in unpadded base64url (43 characters).</summary>
    public static readonly int Length = Prefix.Length + System.Buffers.Text.Base64Url.GetEncodedLength(RandomBytes);

    public static string Generate() => Prefix + Base64UrlEncode(RandomNumberGenerator.GetBytes(RandomBytes));

    /// <summary>
    /// Whether <paramref name="apiKey"/> could be a key this class made (prefix, length, base64url alphabet): anything else
    /// is refused without a database look-up.
    /// </summary>
    public static bool IsWellFormed(string apiKey) =>
        apiKey.Length == Length
        && apiKey.StartsWith(Prefix, StringComparison.Ordinal)
        && !apiKey.AsSpan(Prefix.Length).ContainsAnyExcept(Base64UrlAlphabet);

    /// <summary>What is stored and looked up: the hex SHA-256 of the key.</summary>
    public static string Hash(string apiKey) => Hash(Digest(apiKey));

    public static string Hash(byte[] digest) => Convert.ToHexStringLower(digest);

    /// <summary>The SHA-256 of any presented key (also what the admin key is compared by, in constant time).</summary>
    public static byte[] Digest(string apiKey) => SHA256.HashData(Encoding.UTF8.GetBytes(apiKey));

    private static string Base64UrlEncode(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);
}
