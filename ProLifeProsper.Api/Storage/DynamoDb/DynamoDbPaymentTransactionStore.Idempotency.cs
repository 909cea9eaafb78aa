using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Options;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Storage.DynamoDb;

// The idempotency protocol without transactions: records, then the payment items they apply.
public sealed partial class DynamoDbPaymentTransactionStore
{
    // ----- idempotency records -----

    private enum RecordKind { Create, Update, Copy }

    private async Task<bool> TryPutRecordAsync(IdempotencyRecord record, RecordKind kind, PaymentTransaction? applies, CancellationToken cancellationToken)
    {
        var item = IdempotencyRecordItem.ToItem(record, kind.ToString(), applies);
        try
        {
            await caller.CallAsync("put_idempotency_record", Idempotency, ct => dynamo.PutItemAsync(new PutItemRequest
            {
                TableName = Idempotency,
                Item = item,
                ConditionExpression = "attribute_not_exists(#pk)",
                ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD, // sizes the refusal for the capacity metric
                ExpressionAttributeNames = new() { ["#pk"] = DynamoDbTables.IdempotencyPartition },
                ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
            }, ct), cancellationToken);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Makes sure the change a record stands for is in the table. False when the record is void (an update that
    /// lost its race and can no longer apply); it is then removed and the key is free again.
    /// </summary>
    private async Task<bool> CompleteAsync(Dictionary<string, AttributeValue> recordItem, CancellationToken cancellationToken)
    {
        // A record copied from PostgreSQL describes a change PostgreSQL made; the copied payment carries it.
        if (recordItem["kind"].S == nameof(RecordKind.Copy)) return true;
        var applies = PaymentSnapshotJson.DeserializePayment(
            recordItem.TryGetValue("applies", out var appliesJson) ? appliesJson.S : recordItem["responseJson"].S);
        if (recordItem["kind"].S == nameof(RecordKind.Create))
        {
            await PutPaymentIfAbsentAsync(await ItemOfAsync(applies, cancellationToken), cancellationToken);
            return true;
        }

        var key = recordItem[DynamoDbTables.IdempotencyKey].S;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var current = await GetPaymentItemAsync(await KeyOfAsync(applies, cancellationToken), cancellationToken);
            if (current is null) return false;
            if (AppliedKeys(current).Contains(key)) return true;
            if (int.Parse(current["version"].N, CultureInfo.InvariantCulture) != applies.Version - 1) break;
            if (await TryApplyAsync(applies, key, cancellationToken)) return true;
        }
        await DeleteRecordAsync(ToRecord(recordItem), cancellationToken);
        return false;
    }

    private async Task<Dictionary<string, AttributeValue>?> GetRecordItemAsync(Guid organizationId, string key, CancellationToken cancellationToken)
    {
        var response = await caller.CallAsync("get_idempotency_record", Idempotency, ct => dynamo.GetItemAsync(new GetItemRequest
        {
            TableName = Idempotency,
            Key = RecordKeyOf(organizationId, key),
            ConsistentRead = true,
            ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
        }, ct), cancellationToken);
        return response.Item is { Count: > 0 } item ? item : null;
    }

    private async Task DeleteRecordAsync(IdempotencyRecord record, CancellationToken cancellationToken)
    {
        try
        {
            // Only this record: a newer one under the same key (written after ours was withdrawn) stays.
            await caller.CallAsync("delete_idempotency_record", Idempotency, ct => dynamo.DeleteItemAsync(new DeleteItemRequest
            {
                TableName = Idempotency,
                Key = RecordKeyOf(record.OrganizationId, record.Key),
                ConditionExpression = "resourceId = :rid",
                ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD, // sizes the refusal for the capacity metric
                ExpressionAttributeValues = new() { [":rid"] = PaymentItemMapper.S(record.ResourceId) },
                ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
            }, ct), cancellationToken);
        }
        catch (ConditionalCheckFailedException)
        {
        }
    }

    private static Dictionary<string, AttributeValue> RecordKeyOf(Guid organizationId, string key) => new()
    {
        [DynamoDbTables.IdempotencyPartition] = new(PaymentItemKeys.IdempotencyPartitionOf(organizationId, key)),
        [DynamoDbTables.IdempotencyKey] = new(key),
    };

    private static IdempotencyRecord ToRecord(Dictionary<string, AttributeValue> item) => new(
        Guid.Parse(item[DynamoDbTables.IdempotencyOrganizationId].S),
        item[DynamoDbTables.IdempotencyKey].S,
        item["fingerprint"].S,
        Guid.Parse(item["resourceId"].S),
        item["responseJson"].S,
        PaymentItemMapper.ParseTime(item["createdAt"].S));

    // ----- payment items -----

    private async Task PutPaymentIfAbsentAsync(Dictionary<string, AttributeValue> item, CancellationToken cancellationToken)
    {
        try
        {
            // Marked when its hour has closed (a late retry completing a create); bounded either way, so that a create sent
            // before its hour ended lands before a reader may keep the hour (PaymentAggregates).
            await MarkedWriteAsync([OrganizationAndCreationOf(item)], bound => caller.CallAsync("put_payment", Transactions, ct => dynamo.PutItemAsync(new PutItemRequest
            {
                TableName = Transactions,
                Item = item,
                ConditionExpression = "attribute_not_exists(#pk)",
                ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD, // sizes the refusal for the capacity metric
                ExpressionAttributeNames = new() { ["#pk"] = PaymentItemKeys.Partition },
                ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
            }, ct), bound), cancellationToken);
        }
        catch (ConditionalCheckFailedException)
        {
            // Already there (a peer completed it first): never overwrite, it may have moved on since.
        }
    }

    /// <summary>Applies <paramref name="updated"/> if the stored version is the one before it; marks it with <paramref name="key"/>.</summary>
    private async Task<bool> TryApplyAsync(PaymentTransaction updated, string? key, CancellationToken cancellationToken)
    {
        var names = new Dictionary<string, string>
        {
            ["#pk"] = PaymentItemKeys.Partition, ["#status"] = "status", ["#refunded"] = "refundedAmountMinor",
            ["#updatedAt"] = "updatedAt", ["#version"] = "version", ["#failure"] = "failureCode", ["#shard"] = PaymentItemKeys.StatusShard,
            ["#hour"] = PaymentItemKeys.LegacyDateHourShard,
        };
        var values = new Dictionary<string, AttributeValue>
        {
            [":status"] = new(updated.Status.ToWire()),
            [":refunded"] = PaymentItemMapper.N(updated.RefundedAmountMinor),
            [":updatedAt"] = PaymentItemMapper.Time(updated.UpdatedAt),
            [":version"] = PaymentItemMapper.N(updated.Version),
            [":expected"] = PaymentItemMapper.N(updated.Version - 1),
        };
        var set = new List<string> { "#status = :status", "#refunded = :refunded", "#updatedAt = :updatedAt", "#version = :version" };
        var remove = new List<string> { "#hour" }; // an item of an earlier release leaves the hourly index it no longer needs
        if (updated.FailureCode is null) remove.Add("#failure");
        else { set.Add("#failure = :failure"); values[":failure"] = new(updated.FailureCode); }
        // The pending index is sparse: leaving "pending" takes the payment out of it.
        if (updated.Status == PaymentStatus.Pending) { set.Add("#shard = :shard"); values[":shard"] = new(PaymentItemMapper.PendingShardOf(updated, WriteShards)); }
        else remove.Add("#shard");
        var itemKey = await KeyOfAsync(updated, cancellationToken);
        var expression = "SET " + string.Join(", ", set) + (remove.Count > 0 ? " REMOVE " + string.Join(", ", remove) : "");
        if (key is not null)
        {
            names["#applied"] = PaymentItemMapper.AppliedKeys;
            values[":key"] = new AttributeValue { SS = [key] };
            expression += " ADD #applied :key";
        }

        try
        {
            // Refunds and settlements change closed hours: marked first.
            await MarkedWriteAsync([(updated.OrganizationId, updated.CreatedAt)], bound => caller.CallAsync("update_payment", Transactions, ct => dynamo.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = Transactions,
                Key = itemKey,
                UpdateExpression = expression,
                ConditionExpression = "attribute_exists(#pk) AND #version = :expected",
                ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD, // sizes the refusal for the capacity metric
                ExpressionAttributeNames = names,
                ExpressionAttributeValues = values,
                ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
            }, ct), bound), cancellationToken);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    private async Task<bool> IsAppliedAsync(PaymentTransaction updated, string key, CancellationToken cancellationToken)
    {
        var item = await GetPaymentItemAsync(await KeyOfAsync(updated, cancellationToken), cancellationToken);
        return item is not null && AppliedKeys(item).Contains(key);
    }

    private async Task<bool> IsAlreadyAsync(PaymentTransaction updated, CancellationToken cancellationToken)
    {
        var item = await GetPaymentItemAsync(await KeyOfAsync(updated, cancellationToken), cancellationToken);
        return item is not null && PaymentItemMapper.FromItem(item) == updated;
    }

    private static List<string> AppliedKeys(Dictionary<string, AttributeValue> item) =>
        item.TryGetValue(PaymentItemMapper.AppliedKeys, out var applied) ? applied.SS ?? [] : [];

    private async Task<Dictionary<string, AttributeValue>?> GetPaymentItemAsync(Dictionary<string, AttributeValue> key, CancellationToken cancellationToken)
    {
        var response = await caller.CallAsync("get_payment", Transactions, ct => dynamo.GetItemAsync(new GetItemRequest
        {
            TableName = Transactions,
            Key = key,
            ConsistentRead = true,
            ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
        }, ct), cancellationToken);
        return response.Item is { Count: > 0 } item ? item : null;
    }

    // Ids that are not UUIDv7 (none are issued, but a client may send any) are looked up in the id index.
    private async Task<Dictionary<string, AttributeValue>?> FindKeyByIdAsync(Guid transactionId, CancellationToken cancellationToken)
    {
        var response = await caller.CallAsync("query_by_id", Transactions, ct => dynamo.QueryAsync(new QueryRequest
        {
            TableName = Transactions,
            IndexName = PaymentItemKeys.TransactionIdIndex,
            KeyConditionExpression = "#id = :id",
            ExpressionAttributeNames = new() { ["#id"] = PaymentItemKeys.TransactionId },
            ExpressionAttributeValues = new() { [":id"] = PaymentItemMapper.S(transactionId) },
            Limit = 1,
            ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
        }, ct), cancellationToken);
        return response.Items is { Count: > 0 } items ? PaymentItemMapper.KeyOf(items[0]) : null;
    }
}
