using System.Buffers.Text;
using System.Text;
using System.Text.Json.Nodes;

namespace ProLifeProsper.Api.Tests.Fuzz;

/// <summary>What the generator needs of the tenant under test: ids its valid requests name.</summary>
public sealed record FuzzTenant(Guid OrganizationId, Guid CampaignId, Guid DonorId, Guid PaymentId, Guid OtherOrganizationId);

/// <summary>
/// Generates requests from the OpenAPI document that are each wrong in at least one way (ids, times, numbers, JSON
/// types and shapes, text, headers, cursors, credentials), starting from a valid request and breaking one thing.
/// Seeded: the same seed gives the same requests.
/// </summary>
public sealed class BadRequestGenerator(IReadOnlyList<FuzzOperation> operations, FuzzTenant tenant, Random random)
{
    private const string IdempotencyKey = "Idempotency-Key";

    // A valid body per operation that takes one, and the fields it cannot go without. An operation that gains a body
    // without an entry here fails the suite, so the fuzz keeps covering every route.
    private JsonObject? ValidBody(string operationId) => operationId switch
    {
        "CreateOrganization" => new JsonObject { ["name"] = "Fuzz org" },
        "CreateCampaign" => new JsonObject { ["name"] = "Fuzz", ["goalAmountMinor"] = 1_000, ["currency"] = "USD" },
        "CreateDonor" => new JsonObject { ["email"] = "fuzz@example.org", ["name"] = "Fuzz" },
        "CreatePayment" => new JsonObject
        {
            ["campaignId"] = tenant.CampaignId, ["donorId"] = tenant.DonorId, ["amountMinor"] = 500, ["currency"] = "USD",
            ["paymentMethod"] = new JsonObject { ["type"] = "card", ["token"] = "tok_visa" },
        },
        "RefundPayment" => new JsonObject { ["amountMinor"] = 100 },
        "PlanCapacity" => new JsonObject(),
        "RotateApiKey" => new JsonObject { ["overlapSeconds"] = 3_600 },
        "SetPaymentShards" => new JsonObject { ["shards"] = 2 },
        "SubmitLoadTest" => new JsonObject
        {
            ["phase"] = "dynamo-primary",
            ["apiVersion"] = "1.0.0+fuzz",
            ["measuredAt"] = "2026-01-01T00:00:00Z",
            ["thresholds"] = new JsonObject { ["maxP99Ms"] = 100 },
            ["scenarios"] = new JsonArray(new JsonObject { ["scenario"] = "create-payment", ["ok"] = 10, ["failed"] = 0, ["requestsPerSecond"] = 5.0, ["p99Ms"] = 9.0 }),
        },
        _ => null,
    };

    private static readonly Dictionary<string, string[]> Required = new()
    {
        ["CreateOrganization"] = ["name"],
        ["CreateCampaign"] = ["name", "goalAmountMinor", "currency"],
        ["CreateDonor"] = ["email", "name"],
        ["CreatePayment"] = ["campaignId", "donorId", "amountMinor", "currency", "paymentMethod"],
        ["SetPaymentShards"] = ["shards"],
        ["SubmitLoadTest"] = ["phase", "apiVersion", "measuredAt", "thresholds", "scenarios"],
    };

    public FuzzRequest Next()
    {
        var operation = operations[random.Next(operations.Count)];
        var body = operation.Body is null ? null
            : ValidBody(operation.Id) ?? throw new InvalidOperationException($"The fuzz suite has no valid body for operation {operation.Id}: add one.");
        var pathValues = operation.Parameters.Where(p => p.In == "path").ToDictionary(p => p.Name, p => ValidPathValue(p.Name));
        var query = new List<KeyValuePair<string, string>>();
        var headers = new List<KeyValuePair<string, string>>();
        if (operation.Parameters.Any(p => p.In == "header" && p.Name == IdempotencyKey)) headers.Add(new(IdempotencyKey, $"fuzz-{random.Next():x}"));
        var caller = operation.AdminOnly ? FuzzCaller.Admin : FuzzCaller.Tenant;
        var contentType = body is null ? null : "application/json";
        string? rawBody = body?.ToJsonString();

        // Break one thing. With the admin key, admin routes are only sent requests that cannot succeed (a broken body,
        // query or header): the suite must never start a migration.
        var choices = new List<(string Name, Action Apply)>
        {
            ("no key", () => caller = FuzzCaller.NoKey),
            ("unknown key", () => caller = FuzzCaller.UnknownKey),
            (operation.AdminOnly ? "tenant key on an admin route" : "another tenant's key", () => caller = operation.AdminOnly ? FuzzCaller.Tenant : FuzzCaller.OtherTenant),
            ("oversized header", () => headers.Add(new("X-Fuzz", new string('h', random.Next(33_000, 70_000))))),
        };
        var credentialChoices = choices.Count; // the ones above: the same few answers (401/403/404/431) on every route
        foreach (var name in pathValues.Keys.ToList())
            choices.Add(($"path {name}", () => pathValues[name] = BadPathValue(name, operation.AdminOnly)));
        foreach (var parameter in operation.Parameters.Where(p => p.In == "query"))
            choices.Add(($"query {parameter.Name}", () => query.Add(new(parameter.Name, BadQueryValue(parameter)))));
        if (headers.Count > 0)
            choices.Add(("Idempotency-Key", () => BreakIdempotencyKey(headers)));
        if (body is not null)
        {
            choices.Add(("body shape", () => rawBody = BadBodyShape(body, operation.BodyRequired)));
            choices.Add(("content type", () => contentType = random.Next(5) switch
            {
                0 => "text/plain", 1 => "application/xml", 2 => "application/x-www-form-urlencoded",
                3 => "application/json; charset=utf-16", _ => "application/json; charset=\"x-bogus\"",
            }));
            if (operation.Body!.Count > 0) choices.Add(("body field", () => rawBody = BreakField(body, operation.Body!)));
            if (Required.TryGetValue(operation.Id, out var required)) choices.Add(("required field missing", () =>
            {
                var copy = (JsonObject)body.DeepClone();
                copy.Remove(required[random.Next(required.Length)]);
                rawBody = copy.ToJsonString();
            }));
        }
        // Three in four requests break the input itself, where the route's own code is tested.
        var (mutation, apply) = choices.Count > credentialChoices && random.Next(4) > 0
            ? choices[random.Next(credentialChoices, choices.Count)]
            : choices[random.Next(credentialChoices)];
        apply();

        // Independently of what is broken, a fifth of the requests prefer something other than JSON: errors stay ProblemDetails.
        if (random.Next(5) == 0) headers.Add(new("Accept", random.Next(2) == 0 ? "text/html" : "application/xml;q=0.9, text/plain"));

        var path = operation.PathTemplate;
        foreach (var (name, value) in pathValues) path = path.Replace("{" + name + "}", value, StringComparison.Ordinal);
        if (query.Count > 0) path += "?" + string.Join("&", query.Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value)}"));
        return new FuzzRequest(operation.Id, operation.Method, path, operation.AdminOnly, caller, rawBody, contentType, headers, mutation);
    }

    private string ValidPathValue(string name) => name switch
    {
        "orgId" => tenant.OrganizationId.ToString(),
        "campaignId" => tenant.CampaignId.ToString(),
        "donorId" => tenant.DonorId.ToString(),
        "transactionId" => tenant.PaymentId.ToString(),
        _ => Guid.CreateVersion7().ToString(),
    };

    // Another organization's id is a bad path only for that organization's key: the admin key reaches every organization.
    private string BadPathValue(string name, bool admin) => Pick(
        "not-a-guid",
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-7fff-bfff-ffffffffffff",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        Guid.NewGuid().ToString(), // version 4: never one of ours
        Guid.CreateVersion7(new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero)).ToString(),
        name == "orgId" && !admin ? tenant.OtherOrganizationId.ToString() : Guid.CreateVersion7().ToString(),
        Uri.EscapeDataString("../" + tenant.OrganizationId),
        Uri.EscapeDataString("\u0000"),
        Uri.EscapeDataString("\u202E" + tenant.OrganizationId),
        new string('9', random.Next(100, 3_000)),
        tenant.OrganizationId.ToString("N") + "0");

    private string BadQueryValue(FuzzParameter parameter)
    {
        if (parameter.Name == "cursor") return BadCursor();
        return parameter.Kind switch
        {
            FuzzKind.Integer or FuzzKind.Number => Pick("-1", "0", "-9223372036854775808", "99999999999999999999", "1e3", "1.5", "abc", "0x10", "NaN", "١٢"),
            FuzzKind.DateTime => Pick("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "yesterday", "2026-01-01T25:00:00Z",
                "+275760-09-13T00:00:00Z", "1969-12-31T23:59:59Z", "2300-01-01T00:00:00Z", "2026-01-01T00:00:00+99:00"),
            FuzzKind.Boolean => Pick("maybe", "2", "yes please"),
            _ => Pick("lost", "\u0000", "\u202Erefunded", "REFUNDED ", new string('s', random.Next(300, 5_000)), "pending,refunded", "%00"),
        };
    }

    private string BadCursor()
    {
        static string Encode(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));
        return Pick(
            "garbage",
            Encode("0:" + new string('0', 32)),
            Encode($"{DateTimeOffset.MaxValue.UtcTicks}:{Guid.NewGuid():N}"),
            Encode($"{new DateTimeOffset(2300, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks}:{Guid.NewGuid():N}"),
            Encode("-1:" + new string('f', 32)),
            Encode("abc:def"),
            Encode($"{DateTimeOffset.UtcNow.UtcTicks}:{Guid.NewGuid():N}:extra"),
            Encode(new string('7', 120)),
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{DateTimeOffset.UtcNow.UtcTicks}:")) + "==",
            "%%%");
    }

    private void BreakIdempotencyKey(List<KeyValuePair<string, string>> headers)
    {
        headers.RemoveAll(h => h.Key == IdempotencyKey);
        var value = random.Next(5) switch
        {
            0 => null, // missing
            1 => new string('k', 256),
            2 => "has space",
            3 => "tab\there",
            _ => new string('k', random.Next(1_000, 20_000)),
        };
        if (value is not null) headers.Add(new(IdempotencyKey, value));
    }

    private string BadBodyShape(JsonObject valid, bool required)
    {
        var json = valid.ToJsonString();
        // No body, or JSON null, is a valid request where the body is optional (a capacity plan of the defaults).
        return (required ? random.Next(9) : random.Next(5, 9)) switch
        {
            0 => json[..random.Next(1, Math.Max(2, json.Length - 1))], // truncated
            1 => new string('[', 5_000) + new string(']', 5_000), // nested far deeper than any reader allows
            2 => string.Concat(Enumerable.Repeat("{\"a\":", 2_000)) + "1" + new string('}', 2_000),
            3 => "",
            4 => "null",
            5 => "[" + json + "]",
            6 => "<payment amount=\"5\"/>",
            7 => "{\"" + new string('x', 70_000) + "\":1}", // past the 64 KiB body limit
            _ => json.Replace("{", "{\"\u0000\":", StringComparison.Ordinal)[..^1], // raw control character and truncated
        };
    }

    private string BreakField(JsonObject valid, IReadOnlyList<FuzzProperty> properties)
    {
        var copy = (JsonObject)valid.DeepClone();
        var target = copy;
        var property = properties[random.Next(properties.Count)];
        if (property.Kind == FuzzKind.Object && property.Children.Count > 0 && random.Next(2) == 0 && copy[property.Name] is JsonObject nested)
        {
            target = nested;
            property = property.Children[random.Next(property.Children.Count)];
        }
        if (property.Kind is FuzzKind.String && random.Next(10) == 0)
        {
            // A lone surrogate cannot be put in a JsonNode (the writer replaces it): splice the escape into the text.
            target[property.Name] = "LONE_SURROGATE";
            return copy.ToJsonString().Replace("LONE_SURROGATE", "\\ud800 lone surrogate", StringComparison.Ordinal);
        }
        target[property.Name] = BadValue(property);
        return copy.ToJsonString();
    }

    private JsonNode? BadValue(FuzzProperty property) => property.Kind switch
    {
        FuzzKind.Integer => PickNode(JsonValue.Create("ten"), JsonValue.Create(true), JsonValue.Create(1.5), new JsonObject(), new JsonArray(),
            JsonNode.Parse("1e400"), JsonNode.Parse("99999999999999999999999"), JsonValue.Create(-1), JsonValue.Create(long.MinValue), JsonValue.Create(long.MaxValue)),
        FuzzKind.Number => PickNode(JsonValue.Create("ten"), JsonValue.Create(true), new JsonObject(), new JsonArray(),
            JsonNode.Parse("1e400"), JsonNode.Parse("99999999999999999999999"), JsonValue.Create(-1), JsonValue.Create("NaN"), JsonValue.Create("Infinity")),
        FuzzKind.DateTime => PickNode(JsonValue.Create("not a date"), JsonValue.Create("9999-12-31T23:59:59Z"), JsonValue.Create("0001-01-01T00:00:00Z"),
            JsonValue.Create(1_700_000_000), JsonValue.Create("2026-02-30T00:00:00Z"), new JsonObject()),
        FuzzKind.Uuid => PickNode(JsonValue.Create("not-a-guid"), JsonValue.Create(Guid.Empty), JsonValue.Create(Guid.NewGuid()), JsonValue.Create(42),
            JsonValue.Create(tenant.OtherOrganizationId), new JsonArray()),
        FuzzKind.Boolean => PickNode(JsonValue.Create("true "), JsonValue.Create(2), new JsonObject()),
        FuzzKind.Object => PickNode(JsonValue.Create("object"), JsonValue.Create(42), new JsonArray(), JsonValue.Create(false)),
        FuzzKind.Array => PickNode(JsonValue.Create("array"), new JsonObject()),
        _ => PickNode(JsonValue.Create(12), JsonValue.Create(true), new JsonObject(), new JsonArray(),
            JsonValue.Create("a\u0000b"), JsonValue.Create("bidi \u202E override"), JsonValue.Create("esc \u001b[2J"), JsonValue.Create(new string('n', random.Next(5_000, 60_000)))),
    };

    private string Pick(params string[] values) => values[random.Next(values.Length)];

    private JsonNode? PickNode(params JsonNode?[] values) => values[random.Next(values.Length)];
}
