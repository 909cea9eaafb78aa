using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using ProLifeProsper.Api.Auth;

namespace ProLifeProsper.Api.OpenApi;

/// <summary>
/// The document as a whole: the introduction, contact and licence, the server, tag descriptions, the API-key security
/// scheme and the problem-details schemas the operations refer to.
/// </summary>
internal sealed class ApiDocumentTransformer : IOpenApiDocumentTransformer
{
    public const string SecuritySchemeId = ApiKeyDefaults.Scheme;
    public const string ProblemSchemaId = nameof(ProblemDetails);
    public const string ValidationProblemSchemaId = nameof(HttpValidationProblemDetails);

    private static readonly (string Name, string Description)[] Tags =
    [
        ("Organizations", "The nonprofits on this deployment. The admin key creates them; each gets its own API key, shown once."),
        ("Campaigns", "An organization's fundraising campaigns, with a goal and the progress made by captured payments."),
        ("Donors", "The people who give to an organization; an email address is unique within the organization."),
        ("Payments", "Donations charged through the payment processor, and refunds of them. Both writes require an Idempotency-Key."),
        ("Analytics", "Hourly totals of an organization's captured payments."),
        ("Admin", "The operator's view of the deployment: routing, databases and payment-store figures (admin key)."),
        ("Migration", "The operator's controls for moving payments between PostgreSQL and DynamoDB while the API serves (admin key)."),
        ("Capacity", "DynamoDB capacity and cost planning for a traffic profile (admin key)."),
        ("API keys", "Rotating and revoking an organization's API keys, with an overlap so integrations can switch (admin key)."),
    ];

    public async Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "ProLifeProsper API";
        document.Info.Description = ApiIntroduction.Markdown;
        document.Info.Contact = new OpenApiContact { Name = "ProLifeProsper", Url = new Uri("https://prolifeprosper.org") };
        document.Info.License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" };

        // The server is the one that served this document (behind a proxy, as the proxy forwarded it); without a
        // trailing slash, as the paths begin with one.
        foreach (var server in document.Servers ?? [])
        {
            if (server.Url is { Length: > 1 } url && url.EndsWith('/')) server.Url = url.TrimEnd('/');
            server.Description ??= "This deployment.";
        }

        document.Tags ??= new HashSet<OpenApiTag>();
        foreach (var (name, description) in Tags)
        {
            if (document.Tags.FirstOrDefault(tag => tag.Name == name) is { } tag) tag.Description = description;
        }

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[SecuritySchemeId] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyDefaults.HeaderName,
            Description =
                "An API key, of one of two kinds. The **admin key** (configuration `Auth:AdminApiKey`, held by whoever operates " +
                "the deployment) creates organizations, reaches every organization and is the only key for `/api/admin`. " +
                $"An **organization key** (`{Domain.Organizations.OrganizationApiKey.Prefix}...`, returned once when its " +
                "organization is created) reaches only that organization's `/api/organizations/{orgId}/...` routes. " +
                "Operations that need the admin key list the role `admin` in their security requirement.",
        };

        // The problem responses refer to these by id; the framework adds ProblemDetails only if some endpoint declared it.
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        if (!document.Components.Schemas.ContainsKey(ProblemSchemaId))
            document.Components.Schemas[ProblemSchemaId] = await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), cancellationToken: cancellationToken);
        if (!document.Components.Schemas.ContainsKey(ValidationProblemSchemaId))
            document.Components.Schemas[ValidationProblemSchemaId] = await context.GetOrCreateSchemaAsync(typeof(HttpValidationProblemDetails), cancellationToken: cancellationToken);
        Describe(document, ProblemSchemaId, $"An RFC 9457 problem details object. `type` is stable (`{ProblemTypes.BaseUri}<code>`): switch on it; `title` and `detail` are for people.");
        Describe(document, ValidationProblemSchemaId, "Problem details for a request that failed validation: `errors` maps each invalid field (or header) to what is wrong with it.");
    }

    private static void Describe(OpenApiDocument document, string schemaId, string description)
    {
        if (document.Components?.Schemas is { } schemas && schemas.TryGetValue(schemaId, out var found) && found is OpenApiSchema schema) schema.Description ??= description;
    }
}
