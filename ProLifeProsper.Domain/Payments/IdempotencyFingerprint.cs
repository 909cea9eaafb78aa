using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ProLifeProsper.Domain.Payments;

/// <summary>
/// A SHA-256 over the operation name and its normalised parameters. Stripe semantics: a key reused
/// with a different fingerprint (other body, or another endpoint) is refused with 422.
/// </summary>
public static class IdempotencyFingerprint
{
    public static string Of(string operation, params object[] parts)
    {
        var builder = new StringBuilder(operation);
        foreach (var part in parts)
        {
            builder.Append('\u001f');
            builder.Append(Convert.ToString(part, CultureInfo.InvariantCulture));
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString())));
    }
}
