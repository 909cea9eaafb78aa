using ProLifeProsper.Api.Services;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Apis;

/// <summary>Checks of query strings and headers shared by the endpoints; failures are 400 ProblemDetails.</summary>
internal static class RequestParsing
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string IdempotentReplayedHeader = "Idempotent-Replayed";

    public static PageRequest Page(int? limit, string? cursor)
    {
        var errors = new ValidationErrors()
            .Require(limit is null or >= 1 and <= PageRequest.MaxLimit, "limit", $"'limit' must be from 1 to {PageRequest.MaxLimit}.");
        PageCursor? after = null;
        if (cursor is not null)
        {
            // A cursor this API returned names a row's creation time, which is always within the supported times.
            if (PageCursor.TryDecode(cursor, out var decoded) && UtcClock.IsSupported(decoded.CreatedAt)) after = decoded;
            else errors.Add("cursor", "'cursor' is not a cursor this API returned.");
        }
        errors.ThrowIfAny();
        return new PageRequest(limit ?? PageRequest.DefaultLimit, after);
    }

    /// <summary>The required Idempotency-Key: sent once, 1 to 255 visible ASCII characters.</summary>
    public static string IdempotencyKey(string[]? values) =>
        ValidIdempotencyKey(values)
        ?? throw DomainErrors.Validation(IdempotencyKeyHeader, $"The {IdempotencyKeyHeader} header is required for this request.");

    /// <summary>An Idempotency-Key that may be left out (null); when sent, the same rules as a required one.</summary>
    public static string? OptionalIdempotencyKey(string[]? values, HttpRequest request)
    {
        // The binder gives no value for a header sent empty: a client whose key came out blank would lose the protection
        // it asked for without knowing.
        if (values is null or { Length: 0 } && request.Headers.ContainsKey(IdempotencyKeyHeader))
            throw DomainErrors.Validation(IdempotencyKeyHeader, $"The {IdempotencyKeyHeader} header must not be empty.");
        return ValidIdempotencyKey(values);
    }

    private static string? ValidIdempotencyKey(string[]? values)
    {
        // Sent twice, a binder would join the values ("a,b"): a proxy that doubles the header on one attempt and not on its
        // retry would make one payment two keys, and charge twice. The binder also splits one value at its commas.
        if (values is { Length: > 1 })
            throw DomainErrors.Validation(IdempotencyKeyHeader, $"The {IdempotencyKeyHeader} header must be sent once, as one value without commas.");
        if (values is not { Length: 1 }) return null;
        var value = values[0];
        new ValidationErrors()
            .Require(!string.IsNullOrEmpty(value), IdempotencyKeyHeader, $"The {IdempotencyKeyHeader} header must not be empty.")
            .Require(value is null || value.Length <= IdempotencyRecord.MaxKeyLength, IdempotencyKeyHeader,
                $"The {IdempotencyKeyHeader} header must be at most {IdempotencyRecord.MaxKeyLength} characters.")
            .Require(value is null || value.All(c => c is >= '!' and <= '~'), IdempotencyKeyHeader,
                $"The {IdempotencyKeyHeader} header must be visible ASCII characters (no spaces).")
            .ThrowIfAny();
        return value;
    }

    /// <summary>Marks a replayed answer of an idempotent write (Stripe's header).</summary>
    public static void MarkReplay(HttpContext httpContext, bool replayed)
    {
        if (replayed) httpContext.Response.Headers[IdempotentReplayedHeader] = "true";
    }

    /// <summary>A time range [from, to) within the supported times; both bounds optional, to after from.</summary>
    public static (DateTimeOffset From, DateTimeOffset To) Range(DateTimeOffset? from, DateTimeOffset? to, DateTimeOffset defaultFrom, DateTimeOffset defaultTo)
    {
        // Payment times are whole milliseconds, so rounding a bound up to the next millisecond keeps [from, to) meaning the
        // same payments, and both stores see the same bounds (DynamoDB keys hold milliseconds: a finer bound fell between).
        var start = from is { } f ? CeilingToMillisecond(f) : defaultFrom;
        var end = to is { } t ? CeilingToMillisecond(t) : defaultTo;
        var errors = new ValidationErrors().RequireSupportedTime(from, "from").RequireSupportedTime(to, "to");
        if (errors.IsEmpty) errors.Require(start < end, "to", "'to' must be after 'from'.");
        errors.ThrowIfAny();
        return (start, end);
    }

    private static DateTimeOffset CeilingToMillisecond(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        var truncated = UtcClock.TruncateToMilliseconds(utc);
        return truncated == utc || truncated >= UtcClock.Latest ? truncated : truncated.AddMilliseconds(1);
    }

    /// <summary>A page's cursor must come from the same range: one outside it was tampered with or belongs to another query.</summary>
    public static void CursorWithin(PageCursor? cursor, DateTimeOffset from, DateTimeOffset to) =>
        new ValidationErrors()
            .Require(cursor is not { } c || (c.CreatedAt >= from && c.CreatedAt < to), "cursor", "'cursor' does not belong to this query's time range.")
            .ThrowIfAny();

    public static PaymentStatus? Status(string? status)
    {
        if (status is null) return null;
        if (PaymentStatusNames.TryParse(status, out var parsed)) return parsed;
        throw DomainErrors.Validation("status", "'status' must be one of pending, succeeded, failed, partially_refunded, refunded.");
    }
}
