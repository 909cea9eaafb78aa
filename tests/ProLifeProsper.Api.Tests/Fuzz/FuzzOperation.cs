using System.Text.Json.Nodes;

namespace ProLifeProsper.Api.Tests.Fuzz;

/// <summary>What a value is, as far as mutating it goes.</summary>
public enum FuzzKind
{
    Integer,
    Number,
    String,
    DateTime,
    Uuid,
    Boolean,
    Object,
    Array,
}

public sealed record FuzzParameter(string Name, string In, FuzzKind Kind);

public sealed record FuzzProperty(string Name, FuzzKind Kind, IReadOnlyList<FuzzProperty> Children);

/// <summary>One operation of the OpenAPI document: its route, parameters and body properties.</summary>
public sealed record FuzzOperation(string Id, HttpMethod Method, string PathTemplate, IReadOnlyList<FuzzParameter> Parameters, IReadOnlyList<FuzzProperty>? Body,
    bool BodyRequired)
{
    /// <summary>The admin key's routes: creating organizations and everything under /api/admin.</summary>
    public bool AdminOnly => PathTemplate.StartsWith("/api/admin", StringComparison.Ordinal)
        || (PathTemplate == "/api/organizations" && Method == HttpMethod.Post);

    /// <summary>Reads every operation of an OpenAPI 3 document (components' schemas resolved one level per nesting).</summary>
    public static IReadOnlyList<FuzzOperation> ReadAll(JsonNode document)
    {
        var operations = new List<FuzzOperation>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                if (method is "parameters" or "summary" or "description") continue;
                var parameters = (operation!["parameters"]?.AsArray() ?? [])
                    .Select(p => new FuzzParameter((string)p!["name"]!, (string)p["in"]!, KindOf(document, p["schema"])))
                    .ToList();
                var bodySchema = operation["requestBody"]?["content"]?["application/json"]?["schema"];
                var body = bodySchema is null ? null : PropertiesOf(document, bodySchema, depth: 0);
                operations.Add(new FuzzOperation((string?)operation["operationId"] ?? $"{method} {path}", new HttpMethod(method.ToUpperInvariant()), path, parameters, body,
                    (bool?)operation["requestBody"]?["required"] ?? false));
            }
        }
        return operations;
    }

    private static IReadOnlyList<FuzzProperty> PropertiesOf(JsonNode document, JsonNode schema, int depth)
    {
        var resolved = Resolve(document, schema);
        if (depth > 3 || resolved["properties"] is not JsonObject properties) return [];
        return properties.Select(p => new FuzzProperty(p.Key, KindOf(document, p.Value),
            KindOf(document, p.Value) == FuzzKind.Object ? PropertiesOf(document, p.Value!, depth + 1) : [])).ToList();
    }

    private static JsonNode Resolve(JsonNode document, JsonNode schema)
    {
        for (var hops = 0; hops < 10; hops++)
        {
            if (schema["$ref"] is JsonValue reference)
            {
                var node = document;
                foreach (var part in ((string)reference!).TrimStart('#', '/').Split('/')) node = node[part]!;
                schema = node;
                continue;
            }
            // A nullable reference is written as oneOf/anyOf [null, $ref]: the non-null branch is the shape.
            if ((schema["oneOf"] ?? schema["anyOf"]) is JsonArray branches
                && branches.FirstOrDefault(b => b?["type"] is not JsonValue t || (string?)t != "null") is { } branch)
            {
                schema = branch;
                continue;
            }
            break;
        }
        return schema;
    }

    private static FuzzKind KindOf(JsonNode document, JsonNode? schema)
    {
        if (schema is null) return FuzzKind.String;
        var resolved = Resolve(document, schema);
        var types = resolved["type"] switch
        {
            JsonArray array => array.Select(t => (string)t!).ToArray(),
            JsonValue value => [(string)value!],
            _ => resolved["properties"] is not null ? ["object"] : resolved["enum"] is not null ? ["string"] : [],
        };
        var type = types.FirstOrDefault(t => t != "null") ?? "string";
        var format = (string?)resolved["format"];
        return type switch
        {
            "integer" => FuzzKind.Integer,
            "number" => FuzzKind.Number,
            "boolean" => FuzzKind.Boolean,
            "object" => FuzzKind.Object,
            "array" => FuzzKind.Array,
            _ when format == "date-time" => FuzzKind.DateTime,
            _ when format == "uuid" => FuzzKind.Uuid,
            // Numbers may be written as strings in this API's JSON (pattern-only "integer" schemas).
            _ when resolved["pattern"] is not null && types.Contains("integer") => FuzzKind.Integer,
            _ => FuzzKind.String,
        };
    }
}
