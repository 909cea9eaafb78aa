using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace ProLifeProsper.Testing.Faults;

/// <summary>
/// The HTTP end of <see cref="HostileDynamoDb"/>: reads the operation from <c>X-Amz-Target</c>
/// (<c>DynamoDB_20120810.PutItem</c>), rolls the dice, and throttles, fails, forwards, loses the answer or rewrites
/// the request or answer accordingly, booking all of it in the ledger. Rewriting a signed body is only possible
/// because dynalite does not verify signatures: this is a test double, never a proxy for real DynamoDB.
/// </summary>
internal sealed class HostileDynamoDbHandler(HostileDynamoDb hostile) : DelegatingHandler
{
    private const string JsonMediaType = "application/x-amz-json-1.0";
    private static readonly HashSet<string> ReadOperations = new(StringComparer.Ordinal) { "GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems" };

    private HostileDynamoDbProfile Profile => hostile.Profile;
    private HostileDynamoDbLedger Ledger => hostile.Ledger;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var operation = OperationOf(request);
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var json = body.Length > 0 ? JsonNode.Parse(body) as JsonObject : null;
        var table = json?["TableName"]?.GetValue<string>() ?? "";

        var fault = ChooseFault(operation);
        switch (fault)
        {
            case HostileFault.Throttle:
                Ledger.RecordFault(operation, fault.Value);
                // Item operations are throttled per table; the control plane (DescribeTable, CreateTable) per account.
                return IsItemOperation(operation)
                    ? Error(request, HttpStatusCode.BadRequest, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                        "The level of configured provisioned throughput for the table was exceeded (injected).")
                    : Error(request, HttpStatusCode.BadRequest, "com.amazon.coral.availability#ThrottlingException", "Rate of requests exceeds the allowed throughput (injected).");
            case HostileFault.FailedBeforeSend:
                Ledger.RecordFault(operation, fault.Value);
                throw new HttpRequestException("Connection refused (injected before sending).", new SocketException((int)SocketError.ConnectionRefused));
        }

        if (json is not null && operation is "Query" or "Scan" && hostile.NextDouble() < Profile.TinyPage)
        {
            var tiny = hostile.NextDouble() < 0.5 ? 1 : 2;
            var limit = json["Limit"]?.GetValue<int>();
            if (limit is null || limit > tiny)
            {
                json["Limit"] = tiny;
                body = Encoding.UTF8.GetBytes(json.ToJsonString());
                Ledger.RecordFault(operation, HostileFault.TinyPage);
            }
        }
        if (operation == "CreateTable") hostile.Propagation.LearnKeySchema(json);
        if (request.Content is not null) request.Content = CopyOf(request.Content, body);

        var response = await base.SendAsync(request, cancellationToken);
        Ledger.RecordForwarded(operation);
        var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var answerJson = answer.Length > 0 ? JsonNode.Parse(answer) as JsonObject : null;
        Book(operation, response.StatusCode, answerJson);
        if (response.IsSuccessStatusCode) Observe(operation, table, json, answerJson);

        switch (fault)
        {
            case HostileFault.AppliedThenServerError:
                response.Dispose();
                Ledger.RecordFault(operation, fault.Value);
                return Error(request, HttpStatusCode.InternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error (injected after the request was applied).");
            case HostileFault.AppliedThenReset:
                response.Dispose();
                Ledger.RecordFault(operation, fault.Value);
                throw new HttpRequestException("An error occurred while sending the request (injected after it was applied).",
                    new IOException("Unable to read data from the transport connection: Connection reset by peer (injected).",
                        new SocketException((int)SocketError.ConnectionReset)));
        }

        if (response.IsSuccessStatusCode && json?["IndexName"] is not null && answerJson?["Items"] is JsonArray items)
        {
            var stale = items.OfType<JsonObject>().Where(i => hostile.Propagation.IsPropagating(table, i)).ToList();
            if (stale.Count > 0)
            {
                foreach (var item in stale) items.Remove(item);
                answerJson["Count"] = items.Count;
                Ledger.RecordFault(operation, HostileFault.StaleIndexRead);
                answer = Encoding.UTF8.GetBytes(answerJson.ToJsonString());
                response.Headers.Remove("x-amz-crc32"); // the checksum was of the real body
            }
        }
        response.Content = CopyOf(response.Content, answer);
        return response;
    }

    private static bool IsItemOperation(string operation) =>
        ReadOperations.Contains(operation) || operation is "PutItem" or "UpdateItem" or "DeleteItem" or "BatchWriteItem" or "TransactWriteItems";

    private static string OperationOf(HttpRequestMessage request) =>
        request.Headers.TryGetValues("X-Amz-Target", out var values) && values.FirstOrDefault() is { } target
            ? target[(target.LastIndexOf('.') + 1)..]
            : "unknown";

    private HostileFault? ChooseFault(string operation)
    {
        var roll = hostile.NextDouble();
        if ((roll -= Profile.Throttle) < 0) return HostileFault.Throttle;
        if ((roll -= Profile.FailBeforeSend) < 0) return HostileFault.FailedBeforeSend;
        if (!Profile.LostAnswerOperations.Contains(operation)) return null;
        if ((roll -= Profile.AppliedThenServerError) < 0) return HostileFault.AppliedThenServerError;
        if ((roll -= Profile.AppliedThenReset) < 0) return HostileFault.AppliedThenReset;
        return null;
    }

    /// <summary>Books the capacity the real answer reports; a failed condition is billed even though its body says nothing.</summary>
    private void Book(string operation, HttpStatusCode status, JsonObject? answer)
    {
        var isRead = ReadOperations.Contains(operation);
        var reported = answer?["ConsumedCapacity"] switch
        {
            JsonArray many => many.OfType<JsonObject>().ToList(),
            JsonObject one => [one],
            _ => [],
        };
        foreach (var capacity in reported)
        {
            var total = Number(capacity["CapacityUnits"]);
            var read = capacity["ReadCapacityUnits"] is { } r ? Number(r) : isRead ? total : 0;
            var write = capacity["WriteCapacityUnits"] is { } w ? Number(w) : isRead ? 0 : total;
            Ledger.RecordCapacity(operation, read, write);
        }
        if (status == HttpStatusCode.BadRequest && answer?["__type"]?.GetValue<string>() is { } type && type.EndsWith("#ConditionalCheckFailedException", StringComparison.Ordinal))
        {
            Ledger.RecordConditionalCheckFailure(operation);
            if (reported.Count == 0) Ledger.RecordCapacity(operation, 0, 1);
        }
    }

    /// <summary>Learns table keys and remembers applied writes for index propagation.</summary>
    private void Observe(string operation, string table, JsonObject? request, JsonObject? answer)
    {
        if (operation == "DescribeTable") hostile.Propagation.LearnKeySchema(answer?["Table"]);
        if (Profile.MaxIndexLag <= TimeSpan.Zero || request is null) return;
        var written = operation switch
        {
            "PutItem" => request["Item"] as JsonObject,
            "UpdateItem" or "DeleteItem" => request["Key"] as JsonObject,
            _ => null,
        };
        if (written is not null) hostile.Propagation.RecordWrite(table, written, Profile.MaxIndexLag * hostile.NextDouble());
    }

    private static double Number(JsonNode? node) => node?.GetValue<double>() ?? 0;

    private static HttpResponseMessage Error(HttpRequestMessage request, HttpStatusCode status, string type, string message)
    {
        var body = new JsonObject { ["__type"] = type, ["message"] = message };
        return new HttpResponseMessage(status)
        {
            RequestMessage = request,
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, JsonMediaType),
        };
    }

    private static ByteArrayContent CopyOf(HttpContent original, byte[] body)
    {
        var copy = new ByteArrayContent(body);
        foreach (var header in original.Headers)
            if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
                copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        return copy;
    }
}
