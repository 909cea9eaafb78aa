using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using ProLifeProsper.Api.Apis;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.OpenApi;

/// <summary>
/// Describes the <c>Idempotency-Key</c> header where an operation binds it, with the rules its handler checks: required
/// (<see cref="RequestParsing.IdempotencyKey"/>) unless the route is marked <see cref="OptionalIdempotencyKey"/>. The
/// success response says how a replay is marked.
/// </summary>
internal sealed class IdempotencyKeyTransformer : IOpenApiOperationTransformer
{
    private static readonly string Description = $"""
        Makes this request safe to retry: 1 to {IdempotencyRecord.MaxKeyLength} visible ASCII characters but the comma, unique per
        request within the organization (a UUID is a good choice). Stripe's semantics: the same key with the same
        request replays the first response (`{RequestParsing.IdempotentReplayedHeader}: true`) without charging or
        refunding again; with a different request, or on another endpoint, it is `422 idempotency-key-reused`; while
        the first request with the key is still being processed, `409 idempotency-key-in-flight`. Keys do not expire.
        A request refused with another 4xx does not use up its key.
        """;

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var header = operation.Parameters?.OfType<OpenApiParameter>()
            .FirstOrDefault(p => p.In == ParameterLocation.Header && string.Equals(p.Name, RequestParsing.IdempotencyKeyHeader, StringComparison.OrdinalIgnoreCase));
        if (header is null) return Task.CompletedTask;

        var optional = context.Description.ActionDescriptor.EndpointMetadata.OfType<OptionalIdempotencyKey>().Any();
        header.Required = !optional;
        header.Description = optional
            ? Description + "\nOptional here: without a key, a retry creates a second resource."
            : Description;
        header.Schema = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            MinLength = 1,
            MaxLength = IdempotencyRecord.MaxKeyLength,
            Pattern = "^[!-+\\--~]+$", // RequestParsing.IdempotencyKey: visible ASCII, no spaces, no commas (the binder splits at them)
        };
        header.Example = JsonValue.Create("3f2b8c1e-6d1a-4b7e-9a57-0c2d4e6f8a10");

        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (!status.StartsWith('2') || response is not OpenApiResponse success) continue;
            success.Headers ??= new Dictionary<string, IOpenApiHeader>();
            success.Headers[RequestParsing.IdempotentReplayedHeader] = new OpenApiHeader
            {
                Description = "`true` when this response is the replay of an earlier request with the same Idempotency-Key; absent otherwise.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("true")] },
            };
        }
        return Task.CompletedTask;
    }
}
