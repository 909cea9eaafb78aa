using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using ProLifeProsper.Api.Infrastructure.Telemetry;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// One span per DynamoDB call, named and tagged by the OpenTelemetry conventions for DynamoDB (<c>PutItem
/// pro_life_prosper_transactions</c>, <c>db.system.name</c>, <c>aws.dynamodb.table_names</c>, the consumed capacity),
/// where the HTTP instrumentation alone shows a bare <c>POST</c>. No OpenTelemetry instrumentation package for the AWS
/// SDK v4 is available to this project, so <see cref="DynamoDbCaller"/>, which every call goes through, makes them.
/// </summary>
internal static class DynamoDbTracing
{
    private static readonly JsonSerializerOptions CapacityJson = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Starts the span of one call (null when nobody records it); <paramref name="call"/> is this app's name for it.</summary>
    public static Activity? Start<TResponse>(string call, string table) where TResponse : AmazonWebServiceResponse
    {
        var operation = OperationOf<TResponse>.Name;
        var activity = ApiTelemetry.ActivitySource.StartActivity($"{operation} {table}", ActivityKind.Client);
        if (activity is null) return null;
        activity.SetTag("db.system.name", "aws.dynamodb");
        activity.SetTag("db.operation.name", operation);
        activity.SetTag("aws.dynamodb.table_names", new[] { table });
        // Not the AWS SDK conventions' rpc.* tags: the Aspire dashboard would then show "RPC DynamoDB/PutItem" for every
        // call, hiding the table this span is named after.
        activity.SetTag("prolifeprosper.dynamodb.call", call);
        return activity;
    }

    public static void Succeeded(Activity? activity, AmazonWebServiceResponse response)
    {
        if (activity is null) return;
        activity.SetTag("aws.request_id", response.ResponseMetadata?.RequestId);
        IEnumerable<ConsumedCapacity?> capacity = response switch
        {
            PutItemResponse r => [r.ConsumedCapacity],
            UpdateItemResponse r => [r.ConsumedCapacity],
            DeleteItemResponse r => [r.ConsumedCapacity],
            GetItemResponse r => [r.ConsumedCapacity],
            QueryResponse r => [r.ConsumedCapacity],
            ScanResponse r => [r.ConsumedCapacity],
            BatchGetItemResponse r => r.ConsumedCapacity ?? [],
            BatchWriteItemResponse r => r.ConsumedCapacity ?? [],
            TransactWriteItemsResponse r => r.ConsumedCapacity ?? [],
            TransactGetItemsResponse r => r.ConsumedCapacity ?? [],
            _ => [],
        };
        // The convention's form: each ConsumedCapacity of the response, as JSON.
        var json = capacity.OfType<ConsumedCapacity>()
            .Select(c => JsonSerializer.Serialize(new { c.TableName, c.CapacityUnits, c.ReadCapacityUnits, c.WriteCapacityUnits }, CapacityJson))
            .ToArray();
        if (json.Length > 0) activity.SetTag("aws.dynamodb.consumed_capacity", json);
    }

    /// <summary>A transient failure that <see cref="DynamoDbCaller"/> retries: an event on the call's span.</summary>
    public static void Retrying(Activity? activity, int attempt, Exception? exception) =>
        activity?.AddEvent(new ActivityEvent("retry", tags: new ActivityTagsCollection
        {
            ["prolifeprosper.retry.attempt"] = attempt,
            ["error.type"] = exception is AmazonServiceException { ErrorCode: { } code } ? code : exception?.GetType().Name,
        }));

    public static void Failed(Activity? activity, Exception exception)
    {
        if (activity is null) return;
        if (exception is ConditionalCheckFailedException)
        {
            // Every write here is conditional: a failed condition is an answer (a key already taken, a lost race), not a fault.
            activity.SetTag("prolifeprosper.outcome", "condition-failed");
            return;
        }
        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.SetTag("error.type", exception is AmazonServiceException { ErrorCode: { } code } ? code : exception.GetType().FullName);
    }

    // PutItemResponse -> PutItem: the DynamoDB API's operation name, as the conventions want it.
    private static class OperationOf<TResponse>
    {
        public static readonly string Name = typeof(TResponse).Name is var type && type.EndsWith("Response", StringComparison.Ordinal)
            ? type[..^"Response".Length]
            : type;
    }
}
