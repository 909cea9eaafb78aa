using System.Collections.Frozen;
using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Options;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.Api.Storage.DynamoDb.Aggregates;

namespace ProLifeProsper.Api.Storage.DynamoDb;

// Reads that span many items: lists, pending payments, hourly totals, campaign totals.
public sealed partial class DynamoDbPaymentTransactionStore
{
    public async Task<Page<PaymentTransaction>> ListAsync(PaymentListQuery query, CancellationToken cancellationToken)
    {
        var wanted = query.Limit + 1;
        var shards = (await HistoryAsync(query.OrganizationId, query.To, cancellationToken)).ShardsDuring(query.From, query.To);
        // A filter drops items after they are read, so a filtered list reads within a budget (shared by the shards), never the whole history.
        var budget = query.Status is null ? int.MaxValue : Math.Max(1, _options.MaxItemsReadPerFilteredPage / shards);
        // Each shard first reads twice its even share of the page, so a page rarely needs a second round and a split
        // organization's page does not cost shards × limit reads; then only the shards that hold the page back read on.
        var step = shards == 1 ? wanted : Math.Min(wanted, Math.Max(10, 2 * ((wanted + shards - 1) / shards)));
        Task<QueryResponse> Query(QueryRequest request, CancellationToken ct) => caller.CallAsync("query", Transactions, c => dynamo.QueryAsync(request, c), ct);
        var reads = Enumerable.Range(0, shards).Select(shard => new ShardRead(Query, Transactions, query, shard, budget)).ToList();
        var round = reads;
        string? frontier;
        while (true)
        {
            await ScatterAsync(round, (read, ct) => read.ReadAsync(step, ct), cancellationToken);
            // Every shard has been read from the top down to its own stopping point (or to its end). Everything at or above
            // the highest stopping point has been read in every shard: those items, newest first, make the page.
            frontier = reads.Where(r => r.StoppedAt is not null).Select(r => r.StoppedAt).Max(StringComparer.Ordinal);
            if (frontier is null || reads.Sum(r => r.CountFrom(frontier)) >= wanted) break;
            round = reads.Where(r => r.StoppedAt == frontier && r.Budget > 0).ToList();
            if (round.Count == 0) break; // the filter's budget is spent: a short page, with the frontier as its cursor
        }

        var items = reads.SelectMany(r => r.Items)
            .Where(i => frontier is null || string.CompareOrdinal(i[PaymentItemKeys.SortKey].S, frontier) >= 0)
            .OrderByDescending(i => i[PaymentItemKeys.SortKey].S, StringComparer.Ordinal)
            .Take(wanted)
            .Select(PaymentItemMapper.FromItem)
            .ToList();
        if (items.Count > query.Limit || frontier is null) return Page<PaymentTransaction>.FromOverfetch(items, query.Limit, PaymentListQuery.CursorOf);
        // Cut short at the frontier: every item between the last one answered and there failed the filter, so the client
        // reads on from there.
        var (createdAt, transactionId) = PaymentItemKeys.ParseSortKey(frontier);
        return new Page<PaymentTransaction>(items, new PageCursor(createdAt, transactionId));
    }

    /// <summary>One shard of a list, read newest first in steps, within its share of a filter's read budget.</summary>
    private sealed class ShardRead
    {
        private readonly Func<QueryRequest, CancellationToken, Task<QueryResponse>> _query;
        private readonly QueryRequest _request;
        private readonly bool _filtered;

        public ShardRead(Func<QueryRequest, CancellationToken, Task<QueryResponse>> query, string table, PaymentListQuery list, int shard, int budget)
        {
            _query = query;
            _filtered = list.Status is not null;
            Budget = budget;
            var partition = PaymentItemKeys.PartitionOf(list.OrganizationId, shard);
            _request = new QueryRequest
            {
                TableName = table,
                KeyConditionExpression = "#pk = :pk AND #sk BETWEEN :from AND :to",
                ExpressionAttributeNames = new() { ["#pk"] = PaymentItemKeys.Partition, ["#sk"] = PaymentItemKeys.SortKey },
                ExpressionAttributeValues = new()
                {
                    [":pk"] = new(partition),
                    // Sort keys are "<timestamp>#<id>": every key of an instant t sorts after "t" itself, so
                    // BETWEEN from AND to selects exactly from <= createdAt < to.
                    [":from"] = new(PaymentItemKeys.Timestamp(list.From)),
                    [":to"] = new(PaymentItemKeys.Timestamp(list.To)),
                },
                ScanIndexForward = false,
                ConsistentRead = true,
                ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL,
                ExclusiveStartKey = list.After is { } after ? PaymentItemMapper.KeyOf(partition, PaymentItemKeys.SortKeyOf(after.CreatedAt, after.Id)) : null,
            };
            if (list.Status is { } status)
            {
                _request.FilterExpression = "#status = :status";
                _request.ExpressionAttributeNames["#status"] = "status";
                _request.ExpressionAttributeValues[":status"] = new(status.ToWire());
            }
        }

        public List<Dictionary<string, AttributeValue>> Items { get; } = [];

        /// <summary>Items left to read within the filter's budget.</summary>
        public int Budget { get; private set; }

        /// <summary>The sort key of the last item read, while the shard has not been read to its end; null once it has.</summary>
        public string? StoppedAt { get; private set; }

        private bool _ended;

        public int CountFrom(string frontier) => Items.Count(i => string.CompareOrdinal(i[PaymentItemKeys.SortKey].S, frontier) >= 0);

        /// <summary>Reads on until <paramref name="more"/> more matching items, the end of the shard, or the budget.</summary>
        public async Task<bool> ReadAsync(int more, CancellationToken cancellationToken)
        {
            var target = Items.Count + more;
            while (!_ended && Items.Count < target && Budget > 0)
            {
                var left = target - Items.Count;
                _request.Limit = _filtered ? Math.Min(Budget, Math.Min(1_000, Math.Max(100, left * 4))) : left;
                var response = await _query(_request, cancellationToken);
                Budget -= response.ScannedCount ?? _request.Limit.Value;
                Items.AddRange(response.Items ?? []);
                _request.ExclusiveStartKey = response.LastEvaluatedKey is { Count: > 0 } last ? last : null;
                _ended = _request.ExclusiveStartKey is null;
                StoppedAt = _request.ExclusiveStartKey?[PaymentItemKeys.SortKey].S;
            }
            return true;
        }
    }

    public async Task<IReadOnlyList<PaymentTransaction>> GetPendingAsync(DateTimeOffset createdBefore, PageCursor? after, int limit, CancellationToken cancellationToken)
    {
        if (after is { } first && first.CreatedAt >= createdBefore) return [];
        var afterKey = after is { } a ? PaymentItemKeys.SortKeyOf(a.CreatedAt, a.Id) : null;
        var before = PaymentItemKeys.Timestamp(createdBefore);

        // Scatter over the pending shards, each read oldest first up to `limit` items (following short pages), gather, and
        // keep the oldest `limit` overall: exactly the oldest, since no shard can hold one of them beyond its own first `limit`.
        var perShard = await ScatterAsync(Enumerable.Range(0, ReadShards), async (shard, ct) =>
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
            var keys = chunk.Select(PaymentItemMapper.KeyOf).ToList();
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

    /// <summary>
    /// From kept daily and hourly totals (<see cref="PaymentAggregates"/>); only hours not closed yet are read from their
    /// payments. The range starts no earlier than the organization's first payment: a range before it is empty, and is
    /// neither read nor kept.
    /// </summary>
    public async Task<IReadOnlyList<HourlyPaymentTotal>> GetHourlyTotalsAsync(Guid organizationId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        if (to <= from || await Aggregates.OldestPaymentAsync(organizationId, cancellationToken) is not { } oldest) return [];
        var start = PaymentItemKeys.FloorHour(oldest) > from ? PaymentItemKeys.FloorHour(oldest) : from;
        return to <= start ? [] : (await Aggregates.ReadAsync(organizationId, start, to, hourly: true, cancellationToken)).Hourly(start, to);
    }

    /// <summary>
    /// From the first month of the organization's payments on: kept monthly totals (a few items per month), the current
    /// month's kept days, today's kept hours and the payments of the hours not closed yet. The cost grows with the months
    /// the organization has taken payments, not with their number.
    /// </summary>
    /// <remarks>
    /// One read of the organization serves every campaign, and concurrent requests of one organization share it
    /// (<see cref="ReadCoalescer{TKey, TValue}"/>): a popular progress page costs one read at a time per API instance, not one per
    /// view, and every view still counts the payments answered before it was asked for.
    /// </remarks>
    public async Task<IReadOnlyDictionary<Guid, CampaignTotals>> GetCampaignTotalsAsync(Guid organizationId, IReadOnlyCollection<Guid> campaignIds, CancellationToken cancellationToken)
    {
        if (campaignIds.Count == 0) return new Dictionary<Guid, CampaignTotals>();
        var organizationTotals = LazyInitializer.EnsureInitialized(ref _campaignTotalsReads,
            // A read cut off keeps what it completed (at most a slices keep and an hours keep, each within the write time-out)
            // before the next one starts, which then goes on from there.
            () => new ReadCoalescer<Guid, FrozenDictionary<Guid, CampaignTotals>>("read_campaign_totals shared", ReadCampaignTotalsAsync, CampaignTotalsReadTimeout,
                finishAfterDeadline: _options.WriteTimeout * 2 + TimeSpan.FromSeconds(1)));
        var all = await organizationTotals.ReadAsync(organizationId, cancellationToken);
        return campaignIds.Distinct().Where(all.ContainsKey).ToDictionary(id => id, id => all[id]);
    }

    /// <summary>
    /// How long one shared campaign-totals read may take before its callers get a 503 (a caller that arrived during a read
    /// waits up to twice this, and a cut-off read's keep between them: up to ~83 s at worst with the default write time-out,
    /// only when that keep is slow or failing). A read that needs longer — a telethon's open window without a cache in front — fails here
    /// rather than holding its organization's views.
    /// </summary>
    private static readonly TimeSpan CampaignTotalsReadTimeout = TimeSpan.FromSeconds(30);

    private ReadCoalescer<Guid, FrozenDictionary<Guid, CampaignTotals>>? _campaignTotalsReads;

    /// <summary>Campaign totals of all of the organization's campaigns, a snapshot shared by the requests one read answers.</summary>
    private async Task<FrozenDictionary<Guid, CampaignTotals>> ReadCampaignTotalsAsync(Guid organizationId, CancellationToken cancellationToken) =>
        await Aggregates.OldestPaymentAsync(organizationId, cancellationToken) is { } oldest
            ? (await Aggregates.ReadAsync(organizationId, AggregateKeys.FloorMonth(oldest), null, hourly: false, cancellationToken)).AllCampaigns()
            : FrozenDictionary<Guid, CampaignTotals>.Empty;
}
