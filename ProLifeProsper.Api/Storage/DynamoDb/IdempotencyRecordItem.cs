using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>Idempotency record → DynamoDB item, as the store writes it (and the capacity model measures it).</summary>
public static class IdempotencyRecordItem
{
    /// <param name="record">The record.</param>
    /// <param name="kind">What the record stands for: <c>Create</c>, <c>Update</c> or <c>Copy</c>.</param>
    /// <param name="applies">The change to finish on recovery (the payment as it is to be), if any.</param>
    public static Dictionary<string, AttributeValue> ToItem(IdempotencyRecord record, string kind, PaymentTransaction? applies)
    {
        var item = new Dictionary<string, AttributeValue>
        {
            [DynamoDbTables.IdempotencyPartition] = new(PaymentItemKeys.IdempotencyPartitionOf(record.OrganizationId, record.Key)),
            [DynamoDbTables.IdempotencyKey] = new(record.Key),
            [DynamoDbTables.IdempotencyOrganizationId] = PaymentItemMapper.S(record.OrganizationId),
            ["fingerprint"] = new(record.Fingerprint),
            ["resourceId"] = PaymentItemMapper.S(record.ResourceId),
            ["responseJson"] = new(record.ResponseJson),
            ["createdAt"] = PaymentItemMapper.Time(record.CreatedAt),
            ["kind"] = new(kind),
        };
        // The change to finish on recovery. For a create it is the response itself: not stored twice, so the
        // record stays under 1 KB (one write unit) for keys of UUID length.
        var appliesJson = applies is null ? null : PaymentSnapshotJson.Serialize(applies);
        if (appliesJson == record.ResponseJson) item["appliesResponse"] = new AttributeValue { BOOL = true };
        else if (appliesJson is not null) item["applies"] = new(appliesJson);
        return item;
    }
}
