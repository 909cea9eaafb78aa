using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using ProLifeProsper.Api.Auth;

namespace ProLifeProsper.Api.OpenApi;

/// <summary>
/// Puts the API-key requirement on every operation whose endpoint requires authorization (none is anonymous today; one
/// that is gets no requirement), with the role <c>admin</c> where only the admin key is accepted.
/// </summary>
internal sealed class ApiKeySecurityTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var access = EndpointAccess.Of(context.Description.ActionDescriptor.EndpointMetadata);
        if (!access.RequiresKey) return Task.CompletedTask;

        // OpenAPI 3.1 lets a non-OAuth requirement list the roles it needs.
        List<string> roles = access.AdminOnly ? [ApiKeyDefaults.AdminRole] : [];
        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiDocumentTransformer.SecuritySchemeId, context.Document)] = roles }];
        var who = access.AdminOnly ? "the admin key only" : "the organization's own key, or the admin key";
        operation.Description = operation.Description is null ? $"Authentication: {who}." : $"{operation.Description}\n\nAuthentication: {who}.";
        return Task.CompletedTask;
    }
}
