using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Options;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Storage.DynamoDb;

// The migration's side: copies from PostgreSQL and full scans.
public sealed partial class DynamoDbPaymentTransactionStore
{
    /// <summary>
    /// Writes a payment copied from the other store, unless this store already has that version or a newer one. An update,
    /// not a put: the keys of refunds applied here (by an earlier migration) stay on the item, so retrying such a key after
    /// the payment moved on elsewhere still finds its refund applied instead of making it again.
    /// </summary>
    public async Task<bool> CopyAsync(PaymentTransaction payment, CancellationToken cancellationToken)
    {
        var item = await ItemOfAsync(payment, cancellationToken);
        var names = new Dictionary<string, string> { ["#pk"] = PaymentItemKeys.Partition, ["#version"] = "version" };
        var values = new Dictionary<string, AttributeValue>();
        var set = new List<string>();
        foreach (var (attribute, value) in item.Where(a => a.Key is not (PaymentItemKeys.Partition or PaymentItemKeys.SortKey)))
        {
            var i = set.Count;
            names[$"#a{i}"] = attribute;
            values[$":a{i}"] = value;
            set.Add($"#a{i} = :a{i}");
        }
        var remove = new[] { "failureCode", PaymentItemKeys.StatusShard, PaymentItemKeys.LegacyDateHourShard }.Where(a => !item.ContainsKey(a)).Select((a, i) => { names[$"#r{i}"] = a; return $"#r{i}"; }).ToList();
        values[":version"] = PaymentItemMapper.N(payment.Version);
        try
        {
            // A copy changes its hour's totals: marked first.
            await MarkedWriteAsync([(payment.OrganizationId, payment.CreatedAt)], bound => caller.CallAsync("copy_payment", Transactions, ct => dynamo.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = Transactions,
                Key = PaymentItemMapper.KeyOf(item),
                UpdateExpression = "SET " + string.Join(", ", set) + (remove.Count > 0 ? " REMOVE " + string.Join(", ", remove) : ""),
                ConditionExpression = "attribute_not_exists(#pk) OR #version < :version",
                ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD, // sizes the refusal for the capacity metric
                ExpressionAttributeNames = names,
                ExpressionAttributeValues = values,
                ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
            }, ct), bound), cancellationToken);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false; // this store already has this version or a newer one
        }
    }

    private const int MaxBatchWriteItems = 25;
    private const int BatchCopyParallelism = 4;
    private const int UnprocessedRetries = 6;

    /// <summary>
    /// The items <see cref="PutCopiesAsync"/> writes for these payments and idempotency records copied from the source of
    /// truth (built before anything is sent: a failure here leaves nothing on its way).
    /// </summary>
    public async Task<IReadOnlyList<(string Table, Dictionary<string, AttributeValue> Item)>> CopyItemsAsync(IReadOnlyList<PaymentTransaction> payments,
        IReadOnlyList<IdempotencyRecord> records, CancellationToken cancellationToken)
    {
        var items = new List<(string Table, Dictionary<string, AttributeValue> Item)>(payments.Count + records.Count);
        foreach (var payment in payments) items.Add((Transactions, await ItemOfAsync(payment, cancellationToken)));
        items.AddRange(records.Select(r => (Idempotency, IdempotencyRecordItem.ToItem(r, nameof(RecordKind.Copy), null))));
        return items;
    }

    /// <summary>
    /// Puts copied items (<see cref="CopyItemsAsync"/>), 25 to a <c>BatchWriteItem</c>: unconditionally, replacing what is
    /// there, so only for what this store may hold in no other version than the source's (the caller's rule: payments
    /// PostgreSQL created in this phase, still at version 1, and their records). A request whose outcome is unknown is never
    /// sent again (an attempt whose answer was lost could land after its retry's answer): it fails the call, and the caller
    /// keeps its outbox rows. Items DynamoDB left unprocessed, and requests it refused as throttled, were not written and
    /// are sent again with backoff. (A look first, to leave existing items alone, cost dynalite more than the puts.)
    /// No request leaves after <paramref name="sendBy"/> (a <see cref="System.Diagnostics.Stopwatch"/> timestamp): each is
    /// checked against it just before it is handed to the SDK, so a process paused (stopped, starved) past its lease does not
    /// send a stale copy when it wakes; not covered: a pause between that check and the request leaving, and a VM frozen by its
    /// hypervisor (its monotonic clock may stand still meanwhile). docs/migration.md.
    /// </summary>
    public Task PutCopiesAsync(IReadOnlyList<(string Table, Dictionary<string, AttributeValue> Item)> items, long sendBy, CancellationToken cancellationToken) =>
        MarkedWriteAsync(items.Where(w => w.Table == Transactions).Select(w => OrganizationAndCreationOf(w.Item)), async bound =>
        {
            await Parallel.ForEachAsync(items.Chunk(MaxBatchWriteItems),
                new ParallelOptions { MaxDegreeOfParallelism = BatchCopyParallelism, CancellationToken = bound },
                async (chunk, ct) => await BatchWriteAsync(chunk.GroupBy(w => w.Table)
                    .ToDictionary(g => g.Key, g => g.Select(w => new WriteRequest(new PutRequest(w.Item))).ToList()), sendBy, ct));
            return true;
        }, cancellationToken);

    private async Task BatchWriteAsync(Dictionary<string, List<WriteRequest>> requestItems, long sendBy, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var request = new BatchWriteItemRequest { RequestItems = requestItems, ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL };
            int left;
            if (System.Diagnostics.Stopwatch.GetTimestamp() > sendBy)
                throw new TimeoutException("The copy's time to send ran out (its lease may be another drain's by now): not sent.");
            try
            {
                var response = await caller.CallAsync("batch_copy", Transactions, ct => dynamo.BatchWriteItemAsync(request, ct), cancellationToken, retry: false);
                if (response.UnprocessedItems is not { Count: > 0 } unprocessed || (left = unprocessed.Values.Sum(w => w.Count)) == 0) return;
                requestItems = unprocessed;
            }
            catch (AmazonDynamoDBException e) when (DynamoDbCaller.IsThrottle(e) && attempt < UnprocessedRetries)
            {
                left = requestItems.Values.Sum(w => w.Count); // refused whole: nothing of it was written
            }
            if (attempt == UnprocessedRetries)
                throw new ProvisionedThroughputExceededException($"DynamoDB left {left} copied items unprocessed after {UnprocessedRetries} retries");
            caller.UnprocessedRetry("batch_copy");
            await Task.Delay(TimeSpan.FromMilliseconds(25 << attempt) * (0.5 + Random.Shared.NextDouble()), cancellationToken);
        }
    }

    /// <summary>Keeps an idempotency record copied from the other store (a key already here is left alone).</summary>
    public Task CopyIdempotencyRecordAsync(IdempotencyRecord record, CancellationToken cancellationToken) =>
        TryPutRecordAsync(record, RecordKind.Copy, null, cancellationToken);

    /// <summary>One page of a full scan of the payments (for the reverse copy of a rollback from dynamo-only), resumable from <paramref name="startKey"/>.</summary>
    public async Task<(IReadOnlyList<PaymentTransaction> Items, string? NextKey)> ScanPaymentsAsync(string? startKey, int limit, CancellationToken cancellationToken)
    {
        var (items, next) = await ScanPageAsync(Transactions, startKey, limit, cancellationToken);
        return (items.Select(PaymentItemMapper.FromItem).ToList(), next);
    }

    /// <summary>One page of a full scan of the idempotency records, as above.</summary>
    public async Task<(IReadOnlyList<IdempotencyRecord> Items, string? NextKey)> ScanIdempotencyRecordsAsync(string? startKey, int limit, CancellationToken cancellationToken)
    {
        var (items, next) = await ScanPageAsync(Idempotency, startKey, limit, cancellationToken);
        return (items.Select(ToRecord).ToList(), next);
    }

    /// <summary>Whether the payments table holds any item (a one-item scan; ResourceNotFoundException when the table is missing).</summary>
    public async Task<bool> HasAnyPaymentAsync(CancellationToken cancellationToken) =>
        (await ScanPageAsync(Transactions, null, 1, cancellationToken)).Items.Count > 0;

    // Scan position as JSON of the key's string attributes (both tables' keys are strings), so it can be checkpointed.
    private async Task<(List<Dictionary<string, AttributeValue>> Items, string? NextKey)> ScanPageAsync(string table, string? startKey, int limit, CancellationToken cancellationToken)
    {
        var request = new ScanRequest
        {
            TableName = table, ConsistentRead = true, Limit = limit, ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
            ExclusiveStartKey = startKey is null ? null
                : System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(startKey)!.ToDictionary(kv => kv.Key, kv => new AttributeValue(kv.Value)),
        };
        var response = await caller.CallAsync("scan", table, ct => dynamo.ScanAsync(request, ct), cancellationToken);
        var next = response.LastEvaluatedKey is { Count: > 0 } last
            ? System.Text.Json.JsonSerializer.Serialize(last.ToDictionary(kv => kv.Key, kv => kv.Value.S))
            : null;
        return (response.Items ?? [], next);
    }
}
