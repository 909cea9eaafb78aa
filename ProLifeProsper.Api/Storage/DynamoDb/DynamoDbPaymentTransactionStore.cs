using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Options;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Payments in DynamoDB, correct without DynamoDB transactions (dynalite has none, and they double the cost).
/// <para>
/// Idempotency: the idempotency record is written first, conditionally (<c>attribute_not_exists</c>), and it
/// carries everything needed to finish the change it stands for. Whoever finds a record — a retry, a racing
/// request with the same key, the original writer — completes that change before answering: a create by a
/// conditional put of the payment, an update by applying it if the payment is still at the version before it.
/// So a crash between the two writes leaves neither a lost nor a duplicated payment, and the next request
/// with the key finishes the work. Updates are conditional on the expected version and mark the payment
/// with the key they applied, which is how "was it applied?" is answered after a race.
/// </para>
/// </summary>
/// <param name="indexShards">The index shard count agreed with the table (null: the configured count, for tools and tests).</param>
public sealed class DynamoDbPaymentTransactionStore(IAmazonDynamoDB dynamo, DynamoDbCaller caller, IOptions<DynamoDbOptions> options,
    IndexShards? indexShards = null)
    : IPaymentTransactionStore
{
    public const string StoreName = "dynamodb";

    // Query fan-out above which hourly analytics read the organization's partition instead of the hourly index.
    private const int MaxIndexQueriesForAnalytics = 256;
    private const int ScatterParallelism = 16;

    private readonly DynamoDbOptions _options = options.Value;
    private string Transactions => _options.TransactionsTableName;
    private string Idempotency => _options.IdempotencyTableName;
    private int Shards => indexShards?.Current ?? _options.WriteShards;

    public string Name => StoreName;

    public Task EnsureWritableAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<IdempotencyRecord?> FindIdempotencyRecordAsync(Guid organizationId, string key, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var item = await GetRecordItemAsync(organizationId, key, cancellationToken);
            if (item is null) return null;
            if (await CompleteAsync(item, cancellationToken)) return ToRecord(item);
        }
        throw DomainErrors.IdempotencyKeyInFlight();
    }

    public async Task<IdempotencyRecord> CreateAsync(PaymentTransaction payment, IdempotencyRecord record, CancellationToken cancellationToken)
    {
        if (!await TryPutRecordAsync(record, RecordKind.Create, payment, cancellationToken))
            return await FindIdempotencyRecordAsync(record.OrganizationId, record.Key, cancellationToken)
                ?? throw DomainErrors.IdempotencyKeyInFlight();
        // The key is claimed and the donor charged: the payment is written even if the client has gone away, or
        // GET would answer 404 and campaign totals would miss it until a retry completed it.
        using var finish = new CancellationTokenSource(_options.WriteTimeout);
        await PutPaymentIfAbsentAsync(payment, finish.Token);
        return record;
    }

    public async Task<IdempotencyRecord?> UpdateAsync(PaymentTransaction updated, IdempotencyRecord? record, CancellationToken cancellationToken)
    {
        if (record is null)
        {
            // A refused condition after a lost answer may be our own write, retried: the payment then already is exactly this.
            if (!await TryApplyAsync(updated, null, cancellationToken) && !await IsAlreadyAsync(updated, cancellationToken)) throw DomainErrors.ConcurrentUpdate();
            return null;
        }

        if (!await TryPutRecordAsync(record, RecordKind.Update, updated, cancellationToken))
        {
            // The key is taken: answer with that record once its change is complete (or it turned out void).
            if (await FindIdempotencyRecordAsync(record.OrganizationId, record.Key, cancellationToken) is { } existing) return existing;
            // Refused again: unless our own put went through and only its answer was lost, someone else holds the key now.
            if (!await TryPutRecordAsync(record, RecordKind.Update, updated, cancellationToken)
                && (await GetRecordItemAsync(record.OrganizationId, record.Key, cancellationToken) is not { } mine || ToRecord(mine).ResourceId != record.ResourceId))
                throw DomainErrors.IdempotencyKeyInFlight();
        }

        // The key is claimed: finish (or withdraw) the change even if the client has gone away.
        using var finish = new CancellationTokenSource(_options.WriteTimeout);
        if (await TryApplyAsync(updated, record.Key, finish.Token) || await IsAppliedAsync(updated, record.Key, finish.Token))
            return record;

        // Lost the race to another change: withdraw the record so the key stays free, and let the caller retry.
        await DeleteRecordAsync(record, finish.Token);
        throw DomainErrors.ConcurrentUpdate();
    }

    public async Task<PaymentTransaction?> GetAsync(Guid organizationId, Guid transactionId, CancellationToken cancellationToken)
    {
        var sortKey = PaymentItemKeys.SortKeyOf(transactionId) ?? await FindSortKeyByIdAsync(transactionId, cancellationToken);
        if (sortKey is null) return null;
        var item = await GetPaymentItemAsync(organizationId, sortKey, cancellationToken);
        return item is null ? null : PaymentItemMapper.FromItem(item);
    }

    public async Task<PaymentPage> ListAsync(PaymentListQuery query, CancellationToken cancellationToken)
    {
        var wanted = query.Limit + 1;
        var items = new List<PaymentTransaction>(wanted);
        var request = new QueryRequest
        {
            TableName = Transactions,
            KeyConditionExpression = "#pk = :org AND #sk BETWEEN :from AND :to",
            ExpressionAttributeNames = new() { ["#pk"] = PaymentItemKeys.OrganizationId, ["#sk"] = PaymentItemKeys.SortKey },
            ExpressionAttributeValues = new()
            {
                [":org"] = PaymentItemMapper.S(query.OrganizationId),
                // Sort keys are "<timestamp>#<id>": every key of an instant t sorts after "t" itself, so
                // BETWEEN from AND to selects exactly from <= createdAt < to.
                [":from"] = new(PaymentItemKeys.Timestamp(query.From)),
                [":to"] = new(PaymentItemKeys.Timestamp(query.To)),
            },
            ScanIndexForward = false,
            ConsistentRead = true,
            ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
            ExclusiveStartKey = query.After is { } after
                ? PaymentItemMapper.KeyOf(query.OrganizationId, PaymentItemKeys.SortKeyOf(after.CreatedAt, after.Id))
                : null,
        };
        if (query.Status is { } status)
        {
            request.FilterExpression = "#status = :status";
            request.ExpressionAttributeNames["#status"] = "status";
            request.ExpressionAttributeValues[":status"] = new(status.ToWire());
        }

        var budget = _options.MaxItemsReadPerFilteredPage;
        do
        {
            // A filter drops items after the limit is applied, so read more per page when filtering, within the read budget.
            request.Limit = query.Status is null ? wanted - items.Count : Math.Min(budget, Math.Min(1_000, Math.Max(100, (wanted - items.Count) * 4)));
            var response = await caller.CallAsync("query", Transactions, ct => dynamo.QueryAsync(request, ct), cancellationToken);
            budget -= response.ScannedCount ?? request.Limit.Value;
            foreach (var item in response.Items ?? []) if (items.Count < wanted) items.Add(PaymentItemMapper.FromItem(item));
            request.ExclusiveStartKey = response.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (items.Count < wanted && request.ExclusiveStartKey is not null && (query.Status is null || budget > 0));

        if (items.Count < wanted && request.ExclusiveStartKey is { } stoppedAt)
        {
            // The read budget ran out before the page filled: answer what was found, with a cursor where the read stopped
            // (every item between the last one found and there failed the filter), so the client reads on from there.
            var (createdAt, transactionId) = PaymentItemKeys.ParseSortKey(stoppedAt[PaymentItemKeys.SortKey].S);
            return new PaymentPage(items, new PageCursor(createdAt, transactionId));
        }
        if (items.Count <= query.Limit) return new PaymentPage(items, null);
        items.RemoveAt(items.Count - 1);
        return new PaymentPage(items, new PageCursor(items[^1].CreatedAt, items[^1].TransactionId));
    }

    public async Task<IReadOnlyList<PaymentTransaction>> GetPendingAsync(DateTimeOffset createdBefore, PageCursor? after, int limit, CancellationToken cancellationToken)
    {
        if (after is { } first && first.CreatedAt >= createdBefore) return [];
        var afterKey = after is { } a ? PaymentItemKeys.SortKeyOf(a.CreatedAt, a.Id) : null;
        var before = PaymentItemKeys.Timestamp(createdBefore);

        // Scatter over the pending shards, each read oldest first up to `limit` items (following short pages), gather, and
        // keep the oldest `limit` overall: exactly the oldest, since no shard can hold one of them beyond its own first `limit`.
        var perShard = await ScatterAsync(Enumerable.Range(0, Shards), async (shard, ct) =>
        {
            var request = new QueryRequest
            {
                TableName = Transactions,
                IndexName = PaymentItemKeys.StatusTimestampIndex,
                KeyConditionExpression = afterKey is null ? "#shard = :shard AND #sk < :before" : "#shard = :shard AND #sk BETWEEN :after AND :before",
                ExpressionAttributeNames = new() { ["#shard"] = PaymentItemKeys.StatusShard, ["#sk"] = PaymentItemKeys.SortKey },
                ExpressionAttributeValues = new() { [":shard"] = new(PaymentItemKeys.PendingShard(shard)), [":before"] = new(before) },
                ScanIndexForward = true,
                ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
            };
            if (afterKey is not null) request.ExpressionAttributeValues[":after"] = new(afterKey);
            var items = new List<Dictionary<string, AttributeValue>>();
            do
            {
                request.Limit = limit + 1 - items.Count; // BETWEEN includes the cursor's own item
                var response = await caller.CallAsync("query_pending", Transactions, c => dynamo.QueryAsync(request, c), ct);
                items.AddRange((response.Items ?? []).Where(i => i[PaymentItemKeys.SortKey].S != afterKey));
                request.ExclusiveStartKey = response.LastEvaluatedKey is { Count: > 0 } last ? last : null;
            }
            while (items.Count < limit && request.ExclusiveStartKey is not null);
            return items;
        }, cancellationToken);

        var candidates = perShard.SelectMany(items => items)
            .OrderBy(i => i[PaymentItemKeys.SortKey].S, StringComparer.Ordinal)
            .Take(limit)
            .ToList();
        // The index is eventually consistent: its copy of a payment settled a moment ago still says pending. Re-read each
        // candidate from the table, strongly consistent, so the caller never asks the processor about a settled payment.
        return (await ReadConsistentAsync(candidates, cancellationToken)).Where(p => p.Status == PaymentStatus.Pending)
            .OrderBy(p => PaymentItemKeys.SortKeyOf(p.CreatedAt, p.TransactionId), StringComparer.Ordinal).ToList();
    }

    /// <summary>The table's current, strongly consistent state of the given items (BatchGetItem, 100 keys a call).</summary>
    private async Task<List<PaymentTransaction>> ReadConsistentAsync(IReadOnlyList<Dictionary<string, AttributeValue>> items, CancellationToken cancellationToken)
    {
        var payments = new List<PaymentTransaction>(items.Count);
        foreach (var chunk in items.Chunk(100))
        {
            var keys = chunk.Select(i => new Dictionary<string, AttributeValue>
            {
                [PaymentItemKeys.OrganizationId] = i[PaymentItemKeys.OrganizationId],
                [PaymentItemKeys.SortKey] = i[PaymentItemKeys.SortKey],
            }).ToList();
            while (keys.Count > 0)
            {
                var request = new BatchGetItemRequest
                {
                    RequestItems = new() { [Transactions] = new KeysAndAttributes { Keys = keys, ConsistentRead = true } },
                    ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
                };
                var response = await caller.CallAsync("batch_get_payments", Transactions, ct => dynamo.BatchGetItemAsync(request, ct), cancellationToken);
                if (response.Responses?.TryGetValue(Transactions, out var found) == true) payments.AddRange(found.Select(PaymentItemMapper.FromItem));
                keys = response.UnprocessedKeys?.TryGetValue(Transactions, out var left) == true ? left.Keys : [];
                if (keys.Count > 0) await Task.Delay(50, cancellationToken); // unprocessed keys mean throttling: back off
            }
        }
        return payments;
    }

    public async Task<IReadOnlyList<HourlyPaymentTotal>> GetHourlyTotalsAsync(Guid organizationId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var hours = new List<DateTimeOffset>();
        for (var hour = PaymentItemKeys.FloorHour(from); hour < to; hour = hour.AddHours(1)) hours.Add(hour);

        // Summed page by page as they arrive: memory holds one page and the totals (hours × currencies), never the range's items.
        var totals = new Dictionary<(DateTimeOffset Hour, string Currency), (long Count, long Amount, long Refunded)>();
        void Add(IEnumerable<Dictionary<string, AttributeValue>> page)
        {
            lock (totals)
            {
                foreach (var r in page)
                {
                    var createdAt = PaymentItemMapper.ParseTime(r["createdAt"].S);
                    if (!PaymentStatusNames.Parse(r["status"].S).IsCaptured() || createdAt < from || createdAt >= to) continue;
                    var key = (PaymentItemKeys.FloorHour(createdAt), r["currency"].S);
                    var (count, amount, refunded) = totals.GetValueOrDefault(key);
                    totals[key] = (count + 1, amount + Number(r["amountMinor"]), refunded + Number(r["refundedAmountMinor"]));
                }
            }
        }

        if (hours.Count * Shards <= MaxIndexQueriesForAnalytics)
        {
            var shards = hours.SelectMany(h => Enumerable.Range(0, Shards).Select(s => PaymentItemKeys.DateHourShardOf(h, s)));
            await ScatterAsync(shards, async (shard, ct) =>
            {
                await foreach (var page in QueryPagesAsync(new QueryRequest
                {
                    TableName = Transactions,
                    IndexName = PaymentItemKeys.DateHourIndex,
                    KeyConditionExpression = "#shard = :shard AND #org = :org",
                    ExpressionAttributeNames = new() { ["#shard"] = PaymentItemKeys.DateHourShard, ["#org"] = PaymentItemKeys.OrganizationId },
                    ExpressionAttributeValues = new() { [":shard"] = new(shard), [":org"] = PaymentItemMapper.S(organizationId) },
                }, "query_hourly", ct)) Add(page);
                return true;
            }, cancellationToken);
        }
        else
        {
            // Long ranges: one pass over the organization's partition is cheaper than hours × shards queries.
            await foreach (var page in QueryPagesAsync(new QueryRequest
            {
                TableName = Transactions,
                KeyConditionExpression = "#pk = :org AND #sk BETWEEN :from AND :to",
                ExpressionAttributeNames = new() { ["#pk"] = PaymentItemKeys.OrganizationId, ["#sk"] = PaymentItemKeys.SortKey },
                ExpressionAttributeValues = new()
                {
                    [":org"] = PaymentItemMapper.S(organizationId),
                    [":from"] = new(PaymentItemKeys.Timestamp(from)),
                    [":to"] = new(PaymentItemKeys.Timestamp(to)),
                },
            }, "query_hourly", cancellationToken)) Add(page);
        }

        return totals
            .Select(t => new HourlyPaymentTotal(t.Key.Hour, t.Key.Currency, t.Value.Count, t.Value.Amount, t.Value.Refunded))
            .OrderBy(t => t.Hour).ThenBy(t => t.Currency, StringComparer.Ordinal)
            .ToList();
    }

    public async Task<IReadOnlyDictionary<Guid, CampaignTotals>> GetCampaignTotalsAsync(Guid organizationId, IReadOnlyCollection<Guid> campaignIds, CancellationToken cancellationToken)
    {
        var totals = new Dictionary<Guid, CampaignTotals>();
        if (campaignIds.Count == 0) return totals;
        // One pass over the organization's partition, reading only the four attributes summed. Cost grows with
        // the organization's payment count; docs/dynamodb.md describes the counter item that would replace it.
        var wanted = campaignIds.Select(id => id.ToString("D")).ToHashSet(StringComparer.Ordinal);
        await foreach (var page in QueryPagesAsync(new QueryRequest
        {
            TableName = Transactions,
            KeyConditionExpression = "#pk = :org",
            FilterExpression = "#status IN (:succeeded, :partial)",
            ProjectionExpression = "campaignId, amountMinor, refundedAmountMinor",
            ExpressionAttributeNames = new() { ["#pk"] = PaymentItemKeys.OrganizationId, ["#status"] = "status" },
            ExpressionAttributeValues = new()
            {
                [":org"] = PaymentItemMapper.S(organizationId),
                [":succeeded"] = new(PaymentStatus.Succeeded.ToWire()),
                [":partial"] = new(PaymentStatus.PartiallyRefunded.ToWire()),
            },
        }, "query_campaign_totals", cancellationToken))
        {
            foreach (var row in page) // summed as pages arrive: memory holds one page, not the organization's history
            {
                var campaign = row["campaignId"].S;
                if (!wanted.Contains(campaign)) continue;
                var id = Guid.Parse(campaign);
                var current = totals.GetValueOrDefault(id, CampaignTotals.Zero);
                totals[id] = new CampaignTotals(current.RaisedAmountMinor + Number(row["amountMinor"]) - Number(row["refundedAmountMinor"]), current.DonationCount + 1);
            }
        }
        return totals;
    }

    // ----- migration: copies from PostgreSQL and full scans -----

    /// <summary>
    /// Writes a payment copied from the other store, unless this store already has that version or a newer one. An update,
    /// not a put: the keys of refunds applied here (by an earlier migration) stay on the item, so retrying such a key after
    /// the payment moved on elsewhere still finds its refund applied instead of making it again.
    /// </summary>
    public async Task<bool> CopyAsync(PaymentTransaction payment, CancellationToken cancellationToken)
    {
        var item = PaymentItemMapper.ToItem(payment, Shards);
        var names = new Dictionary<string, string> { ["#pk"] = PaymentItemKeys.OrganizationId, ["#version"] = "version" };
        var values = new Dictionary<string, AttributeValue>();
        var set = new List<string>();
        foreach (var (attribute, value) in item.Where(a => a.Key is not (PaymentItemKeys.OrganizationId or PaymentItemKeys.SortKey)))
        {
            var i = set.Count;
            names[$"#a{i}"] = attribute;
            values[$":a{i}"] = value;
            set.Add($"#a{i} = :a{i}");
        }
        var remove = new[] { "failureCode", PaymentItemKeys.StatusShard }.Where(a => !item.ContainsKey(a)).Select((a, i) => { names[$"#r{i}"] = a; return $"#r{i}"; }).ToList();
        values[":version"] = PaymentItemMapper.N(payment.Version);
        try
        {
            await caller.CallAsync("copy_payment", Transactions, ct => dynamo.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = Transactions,
                Key = PaymentItemMapper.KeyOf(payment),
                UpdateExpression = "SET " + string.Join(", ", set) + (remove.Count > 0 ? " REMOVE " + string.Join(", ", remove) : ""),
                ConditionExpression = "attribute_not_exists(#pk) OR #version < :version",
                ExpressionAttributeNames = names,
                ExpressionAttributeValues = values,
                ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
            }, ct), cancellationToken);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false; // this store already has this version or a newer one
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

    // ----- idempotency records -----

    private enum RecordKind { Create, Update, Copy }

    private async Task<bool> TryPutRecordAsync(IdempotencyRecord record, RecordKind kind, PaymentTransaction? applies, CancellationToken cancellationToken)
    {
        var item = new Dictionary<string, AttributeValue>
        {
            [DynamoDbTables.IdempotencyOrganizationId] = PaymentItemMapper.S(record.OrganizationId),
            [DynamoDbTables.IdempotencyKey] = new(record.Key),
            ["fingerprint"] = new(record.Fingerprint),
            ["resourceId"] = PaymentItemMapper.S(record.ResourceId),
            ["responseJson"] = new(record.ResponseJson),
            ["createdAt"] = PaymentItemMapper.Time(record.CreatedAt),
            ["kind"] = new(kind.ToString()),
        };
        // The change to finish on recovery. For a create it is the response itself: not stored twice, so the
        // record stays under 1 KB (one write unit).
        var appliesJson = applies is null ? null : PaymentSnapshotJson.Serialize(applies);
        if (appliesJson == record.ResponseJson) item["appliesResponse"] = new AttributeValue { BOOL = true };
        else if (appliesJson is not null) item["applies"] = new(appliesJson);
        try
        {
            await caller.CallAsync("put_idempotency_record", Idempotency, ct => dynamo.PutItemAsync(new PutItemRequest
            {
                TableName = Idempotency,
                Item = item,
                ConditionExpression = "attribute_not_exists(#pk)",
                ExpressionAttributeNames = new() { ["#pk"] = DynamoDbTables.IdempotencyOrganizationId },
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
            await PutPaymentIfAbsentAsync(applies, cancellationToken);
            return true;
        }

        var key = recordItem[DynamoDbTables.IdempotencyKey].S;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var current = await GetPaymentItemAsync(applies.OrganizationId, PaymentItemKeys.SortKeyOf(applies.CreatedAt, applies.TransactionId), cancellationToken);
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
            Key = new() { [DynamoDbTables.IdempotencyOrganizationId] = PaymentItemMapper.S(organizationId), [DynamoDbTables.IdempotencyKey] = new(key) },
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
                Key = new() { [DynamoDbTables.IdempotencyOrganizationId] = PaymentItemMapper.S(record.OrganizationId), [DynamoDbTables.IdempotencyKey] = new(record.Key) },
                ConditionExpression = "resourceId = :rid",
                ExpressionAttributeValues = new() { [":rid"] = PaymentItemMapper.S(record.ResourceId) },
                ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
            }, ct), cancellationToken);
        }
        catch (ConditionalCheckFailedException)
        {
        }
    }

    private static IdempotencyRecord ToRecord(Dictionary<string, AttributeValue> item) => new(
        Guid.Parse(item[DynamoDbTables.IdempotencyOrganizationId].S),
        item[DynamoDbTables.IdempotencyKey].S,
        item["fingerprint"].S,
        Guid.Parse(item["resourceId"].S),
        item["responseJson"].S,
        PaymentItemMapper.ParseTime(item["createdAt"].S));

    // ----- payment items -----

    private async Task PutPaymentIfAbsentAsync(PaymentTransaction payment, CancellationToken cancellationToken)
    {
        try
        {
            await caller.CallAsync("put_payment", Transactions, ct => dynamo.PutItemAsync(new PutItemRequest
            {
                TableName = Transactions,
                Item = PaymentItemMapper.ToItem(payment, Shards),
                ConditionExpression = "attribute_not_exists(#pk)",
                ExpressionAttributeNames = new() { ["#pk"] = PaymentItemKeys.OrganizationId },
                ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
            }, ct), cancellationToken);
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
            ["#pk"] = PaymentItemKeys.OrganizationId, ["#status"] = "status", ["#refunded"] = "refundedAmountMinor",
            ["#updatedAt"] = "updatedAt", ["#version"] = "version", ["#failure"] = "failureCode", ["#shard"] = PaymentItemKeys.StatusShard,
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
        var remove = new List<string>();
        if (updated.FailureCode is null) remove.Add("#failure");
        else { set.Add("#failure = :failure"); values[":failure"] = new(updated.FailureCode); }
        // The pending index is sparse: leaving "pending" takes the payment out of it.
        if (updated.Status == PaymentStatus.Pending) { set.Add("#shard = :shard"); values[":shard"] = new(PaymentItemMapper.PendingShardOf(updated, Shards)); }
        else remove.Add("#shard");
        var expression = "SET " + string.Join(", ", set) + (remove.Count > 0 ? " REMOVE " + string.Join(", ", remove) : "");
        if (key is not null)
        {
            names["#applied"] = PaymentItemMapper.AppliedKeys;
            values[":key"] = new AttributeValue { SS = [key] };
            expression += " ADD #applied :key";
        }

        try
        {
            await caller.CallAsync("update_payment", Transactions, ct => dynamo.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = Transactions,
                Key = PaymentItemMapper.KeyOf(updated),
                UpdateExpression = expression,
                ConditionExpression = "attribute_exists(#pk) AND #version = :expected",
                ExpressionAttributeNames = names,
                ExpressionAttributeValues = values,
                ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
            }, ct), cancellationToken);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    private async Task<bool> IsAppliedAsync(PaymentTransaction updated, string key, CancellationToken cancellationToken)
    {
        var item = await GetPaymentItemAsync(updated.OrganizationId, PaymentItemKeys.SortKeyOf(updated.CreatedAt, updated.TransactionId), cancellationToken);
        return item is not null && AppliedKeys(item).Contains(key);
    }

    private async Task<bool> IsAlreadyAsync(PaymentTransaction updated, CancellationToken cancellationToken)
    {
        var item = await GetPaymentItemAsync(updated.OrganizationId, PaymentItemKeys.SortKeyOf(updated.CreatedAt, updated.TransactionId), cancellationToken);
        return item is not null && PaymentItemMapper.FromItem(item) == updated;
    }

    private static List<string> AppliedKeys(Dictionary<string, AttributeValue> item) =>
        item.TryGetValue(PaymentItemMapper.AppliedKeys, out var applied) ? applied.SS ?? [] : [];

    private async Task<Dictionary<string, AttributeValue>?> GetPaymentItemAsync(Guid organizationId, string sortKey, CancellationToken cancellationToken)
    {
        var response = await caller.CallAsync("get_payment", Transactions, ct => dynamo.GetItemAsync(new GetItemRequest
        {
            TableName = Transactions,
            Key = PaymentItemMapper.KeyOf(organizationId, sortKey),
            ConsistentRead = true,
            ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
        }, ct), cancellationToken);
        return response.Item is { Count: > 0 } item ? item : null;
    }

    // Ids that are not UUIDv7 (none are issued, but a client may send any) are looked up in the id index.
    private async Task<string?> FindSortKeyByIdAsync(Guid transactionId, CancellationToken cancellationToken)
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
        return response.Items is { Count: > 0 } items ? items[0][PaymentItemKeys.SortKey].S : null;
    }

    // ----- helpers -----

    // Every page of a query, one at a time (a page is at most 1 MB): for aggregates that must not hold what they sum.
    private async IAsyncEnumerable<List<Dictionary<string, AttributeValue>>> QueryPagesAsync(QueryRequest request, string operation,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        request.ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL;
        do
        {
            var response = await caller.CallAsync(operation, Transactions, ct => dynamo.QueryAsync(request, ct), cancellationToken);
            yield return response.Items ?? [];
            request.ExclusiveStartKey = response.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (request.ExclusiveStartKey is not null);
    }

    private static async Task<IReadOnlyList<T>> ScatterAsync<TInput, T>(IEnumerable<TInput> inputs, Func<TInput, CancellationToken, Task<T>> query, CancellationToken cancellationToken)
    {
        var results = new System.Collections.Concurrent.ConcurrentBag<T>();
        await Parallel.ForEachAsync(inputs, new ParallelOptions { MaxDegreeOfParallelism = ScatterParallelism, CancellationToken = cancellationToken },
            async (input, ct) => results.Add(await query(input, ct)));
        return results.ToList();
    }

    private static long Number(AttributeValue value) => long.Parse(value.N, CultureInfo.InvariantCulture);
}
