namespace ProLifeProsper.Api.OpenApi;

public static class OpenApiExtensions
{
    /// <summary>
    /// The OpenAPI document (<c>/openapi/v1.json</c>) that clients are generated from: what the API is, how to
    /// authenticate, and every answer each operation can give. The document is checked by a linter in the tests.
    /// </summary>
    public static IServiceCollection AddApiContract(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer<ApiDocumentTransformer>();
            options.AddOperationTransformer<ApiKeySecurityTransformer>();
            options.AddOperationTransformer<IdempotencyKeyTransformer>();
            options.AddOperationTransformer<PagingParametersTransformer>();
            options.AddOperationTransformer<ProblemResponsesTransformer>();
        });
}
