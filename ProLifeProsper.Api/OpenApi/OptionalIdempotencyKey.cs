namespace ProLifeProsper.Api.OpenApi;

/// <summary>
/// Endpoint metadata: this route takes an Idempotency-Key but does not require one (campaign and donor creates, which
/// harm no one when a client without a key creates twice; payments and refunds move money and require it).
/// </summary>
internal sealed class OptionalIdempotencyKey
{
    public static readonly OptionalIdempotencyKey Instance = new();

    private OptionalIdempotencyKey()
    {
    }
}
