using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;
using ProLifeProsper.Api.Extensions;

namespace ProLifeProsper.Api.OpenApi;

/// <summary>
/// Declares the problem answers an operation can give because of what it is, not what it does: 400 where it reads
/// input, 401 where it needs a key, 403 where it needs the admin key, 413 and 415 where it reads a body, 429 and 503
/// everywhere (rate limiting covers every route; any request may need PostgreSQL, if only to look up its organization
/// key). Answers specific to a route (409, 422, a 404 for the resource it looks up, payment-store 503s) are declared on the route with
/// <see cref="ProblemMetadataExtensions.ProducesProblemWhen"/>. Every error answer is <c>application/problem+json</c>.
/// </summary>
internal sealed class ProblemResponsesTransformer : IOpenApiOperationTransformer
{
    private static readonly Dictionary<int, string> Generic = new()
    {
        [StatusCodes.Status400BadRequest] = "The request is malformed (`malformed-request`: unreadable JSON, a field of the wrong type, a query value or header that does not parse) or invalid (`validation-failed`, with `errors` naming each field). Nothing was stored.",
        [StatusCodes.Status401Unauthorized] = "No `X-Api-Key` header, or a key this API does not know (`unauthorized`).",
        [StatusCodes.Status403Forbidden] = "The key is valid but may not use this operation: it needs the admin key (`forbidden`).",
        [StatusCodes.Status404NotFound] = "The organization in the path does not exist, or is not the key's own (`organization-not-found`): another organization's ids are never confirmed.",
        [StatusCodes.Status409Conflict] = "The request conflicts with the current state; `type` says how.",
        [StatusCodes.Status413PayloadTooLarge] = $"The request body is larger than {ApplicationServiceExtensions.MaxRequestBodyBytes / 1024} KiB (`payload-too-large`). Nothing was stored.",
        [StatusCodes.Status415UnsupportedMediaType] = "The request body is not `application/json` (`unsupported-media-type`). Nothing was stored.",
        [StatusCodes.Status422UnprocessableEntity] = "The request is well-formed but breaks a business rule; `type` says which. Nothing was stored.",
        [StatusCodes.Status429TooManyRequests] = "Too many requests from this client. Wait the number of seconds in `Retry-After`, then retry (a write with the same Idempotency-Key).",
        [StatusCodes.Status503ServiceUnavailable] = "A database did not answer (`store-unavailable`). Retry later (a write with the same Idempotency-Key, which makes the retry safe).",
    };

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var access = EndpointAccess.Of(metadata);
        var readsBody = operation.RequestBody is not null;
        var readsInput = readsBody || operation.Parameters?.Any(p => p.In != ParameterLocation.Path) == true;
        var responses = operation.Responses ??= new OpenApiResponses();

        // A path parameter that does not parse never reaches the endpoint (the route constraint answers 404), so only
        // a body, a query or a header makes a 400.
        if (readsInput) responses.TryAdd("400", new OpenApiResponse());
        if (access.RequiresKey) responses.TryAdd("401", new OpenApiResponse());
        if (access.AdminOnly) responses.TryAdd("403", new OpenApiResponse());
        if (readsBody)
        {
            responses.TryAdd("413", new OpenApiResponse());
            responses.TryAdd("415", new OpenApiResponse());
        }
        responses.TryAdd("429", new OpenApiResponse());
        responses.TryAdd("503", new OpenApiResponse());

        foreach (var (key, value) in responses)
        {
            if (!int.TryParse(key, out var status) || status < 400 || value is not OpenApiResponse response) continue;
            response.Description = metadata.OfType<IProducesResponseTypeMetadata>().LastOrDefault(m => m.StatusCode == status && m.Description is not null)?.Description
                ?? (response.Description is { } own && own != ReasonPhrases.GetReasonPhrase(status) ? own : null)
                ?? Generic.GetValueOrDefault(status)
                ?? ReasonPhrases.GetReasonPhrase(status);
            var schema = status == StatusCodes.Status400BadRequest ? ApiDocumentTransformer.ValidationProblemSchemaId : ApiDocumentTransformer.ProblemSchemaId;
            response.Content = new Dictionary<string, OpenApiMediaType>
            {
                [ProblemMetadataExtensions.ProblemContentType] = new OpenApiMediaType { Schema = new OpenApiSchemaReference(schema, context.Document) },
            };
            if (status == StatusCodes.Status429TooManyRequests)
            {
                response.Headers ??= new Dictionary<string, IOpenApiHeader>();
                response.Headers["Retry-After"] = new OpenApiHeader
                {
                    Description = "Seconds to wait before retrying.",
                    Required = true,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "0" },
                    Example = JsonValue.Create(1),
                };
            }
        }

        // Successes first, then errors in status order: easier to read, and stable.
        operation.Responses = new OpenApiResponses();
        foreach (var (key, value) in responses.OrderBy(r => r.Key, StringComparer.Ordinal)) operation.Responses[key] = value;
        return Task.CompletedTask;
    }
}
