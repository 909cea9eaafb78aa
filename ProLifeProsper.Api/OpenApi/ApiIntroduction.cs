using ProLifeProsper.Api.Apis;
using ProLifeProsper.Api.Auth;
using ProLifeProsper.Api.Extensions;
using ProLifeProsper.Api.Services;
using ProLifeProsper.Domain.Organizations;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.OpenApi;

/// <summary>The document's <c>info.description</c>: what an integrator reads first. Limits come from the code, so they cannot drift.</summary>
internal static class ApiIntroduction
{
    public static readonly string Markdown = $"""
        ProLifeProsper takes donations for nonprofits. An **organization** runs **campaigns**, **donors** give to them,
        and each **payment** is charged through a payment processor and can be refunded in part or in full. Amounts are
        whole numbers of minor units (`2500` is $25.00) with an ISO 4217 currency; timestamps are UTC; ids are UUIDv7.

        ## Authentication

        Send an API key in the `{ApiKeyDefaults.HeaderName}` header on every request. There are two kinds of key:

        - The **admin key** belongs to whoever operates this deployment (configuration `Auth:AdminApiKey`). It creates
          organizations, reaches every organization's routes, and is the only key accepted under `/api/admin`.
        - An **organization key** (`{OrganizationApiKey.Prefix}...`) is returned once, in the response that creates
          its organization, and is stored only as a hash. It reaches the `/api/organizations/{"{orgId}"}/...` routes of
          its own organization only: another organization's id answers `404`, exactly as an id that does not exist.

        A missing or unknown key is answered `401`; a valid key on a route it may not use, `403`.

        ## Idempotency

        Creating a payment and refunding one require an `{RequestParsing.IdempotencyKeyHeader}` header:
        1 to {IdempotencyRecord.MaxKeyLength} visible ASCII characters, unique per request (a UUID is a good choice).
        The semantics are Stripe's: a retry with the same key and the same request replays the first response (same
        status and body, with `{RequestParsing.IdempotentReplayedHeader}: true`) and never charges or refunds twice;
        the same key with a different request, or on the other endpoint, is `422 idempotency-key-reused`; while the
        first request with a key is still being processed, another one with it is `409 idempotency-key-in-flight`
        (retry it). Keys are scoped to the organization and do not expire, so retrying with the same key is always
        safe: after a time-out, a `429`, a `503` or a lost connection. A refused request (any other 4xx) does not use
        up its key. Creating a campaign or a donor takes the same header, optionally, with the same semantics: a retry
        with the key answers `201` with the first campaign or donor instead of creating a second.

        ## Errors

        Every error is an RFC 9457 problem details object (`application/problem+json`) with a stable `type`,
        `{ProblemTypes.BaseUri}<code>`, to switch on; `title` and `detail` are written for people and may change.
        A `400 validation-failed` names each invalid field in `errors`. A refused request stores nothing. Request
        bodies are JSON of at most {ApplicationServiceExtensions.MaxRequestBodyBytes / 1024} KiB.

        ## Paging

        Lists answer `{"{"} "items": [...], "nextCursor": "..." {"}"}`, newest first. To read the next page, send the
        `nextCursor` back as `cursor` (with the same filters); `nextCursor` is `null` on the last page. `limit` is
        1 to {PageRequest.MaxLimit} (default {PageRequest.DefaultLimit}). Cursors are opaque and stay valid while new
        items are added. With a payment `status` filter a page may be short, even empty, while `nextCursor` is set:
        follow it until it is `null`.
        """;
}
