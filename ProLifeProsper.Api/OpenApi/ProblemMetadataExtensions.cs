using Microsoft.AspNetCore.Mvc;

namespace ProLifeProsper.Api.OpenApi;

public static class ProblemMetadataExtensions
{
    public const string ProblemContentType = "application/problem+json";

    /// <summary>
    /// Declares a problem-details answer specific to these endpoints, saying when it happens (and which <c>type</c>s
    /// it carries). The answers every endpoint shares are added by <see cref="ProblemResponsesTransformer"/>.
    /// </summary>
    public static TBuilder ProducesProblemWhen<TBuilder>(this TBuilder builder, int statusCode, string when) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(statusCode, typeof(ProblemDetails), [ProblemContentType]) { Description = when });
}
