using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Tests.Infrastructure;

/// <summary>
/// Leaves DynamoDB as a write cut off between its two steps leaves it: the idempotency record (with the change it stands
/// for) is written, the payment change is not — as when the writer died, timed out or lost the answer after step one.
/// </summary>
public static class CutOffDynamoWrite
{
    public static Task WriteRecordOnlyAsync(IAmazonDynamoDB client, string idempotencyTable, IdempotencyRecord record, string kind, PaymentTransaction applies) =>
        client.PutItemAsync(new PutItemRequest
        {
            TableName = idempotencyTable,
            Item = new()
            {
                [DynamoDbTables.IdempotencyPartition] = new(PaymentItemKeys.IdempotencyPartitionOf(record.OrganizationId, record.Key)),
                [DynamoDbTables.IdempotencyKey] = new(record.Key),
                [DynamoDbTables.IdempotencyOrganizationId] = new(record.OrganizationId.ToString("D")),
                ["fingerprint"] = new(record.Fingerprint),
                ["resourceId"] = new(record.ResourceId.ToString("D")),
                ["responseJson"] = new(record.ResponseJson),
                ["createdAt"] = PaymentItemMapper.Time(record.CreatedAt),
                ["kind"] = new(kind),
                ["applies"] = new(PaymentSnapshotJson.Serialize(applies)),
            },
        });
}
