using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using ProLifeProsper.Api.Services;

namespace ProLifeProsper.Api.OpenApi;

/// <summary>Describes the <c>limit</c> and <c>cursor</c> query parameters of every list, with the bounds <see cref="Apis.RequestParsing.Page"/> checks.</summary>
internal sealed class PagingParametersTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
        {
            if (parameter.In != ParameterLocation.Query) continue;
            if (parameter.Name == "limit")
            {
                parameter.Description = $"Items per page: 1 to {PageRequest.MaxLimit}. Default {PageRequest.DefaultLimit}.";
                if (parameter.Schema is OpenApiSchema schema)
                {
                    schema.Minimum = "1";
                    schema.Maximum = PageRequest.MaxLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    schema.Default = System.Text.Json.Nodes.JsonValue.Create(PageRequest.DefaultLimit);
                }
            }
            else if (parameter.Name == "cursor")
            {
                parameter.Description = "Where the page starts: the `nextCursor` of the previous page, unchanged. Omit it for the first page.";
            }
        }
        return Task.CompletedTask;
    }
}
