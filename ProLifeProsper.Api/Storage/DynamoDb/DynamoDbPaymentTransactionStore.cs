using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Storage.DynamoDb.Aggregates;
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
/// <param name="organizationShards">How organizations' payments are split over partition keys (null: none is split, for tools and tests).</param>
/// <param name="time">The clock of the aggregates' closed hours and marks (null: the system clock).</param>
/// <param name="unfinished">Finishes in the background a create whose payment item failed after its key was claimed (null: left to the client's retry).</param>
public sealed partial class DynamoDbPaymentTransactionStore(IAmazonDynamoDB dynamo, DynamoDbCaller caller, IOptions<DynamoDbOptions> options,
    IndexShards? indexShards = null, OrganizationShards? organizationShards = null, TimeProvider? time = null,
    ILogger<DynamoDbPaymentTransactionStore>? logger = null, UnfinishedCreates? unfinished = null)
    : IPaymentTransactionStore
{
    public const string StoreName = "dynamodb";

    private const int ScatterParallelism = 16;

    private readonly DynamoDbOptions _options = options.Value;
    private string Transactions => _options.TransactionsTableName;
    private string Idempotency => _options.IdempotencyTableName;
    private int WriteShards => indexShards?.ForWrites ?? _options.WriteShards;
    private int ReadShards => indexShards?.ForReads ?? _options.WriteShards;
    private static readonly OrganizationShards Unsplit = OrganizationShards.Fixed(OrganizationShardMap.Unsplit);

    public string Name => StoreName;

    /// <summary>Campaign progress and hourly analytics from kept totals; every write that may land in a closed hour marks it first.</summary>
    public PaymentAggregates Aggregates => field ??= new PaymentAggregates(dynamo, caller, _options,
        async (organizationId, from, to, ct) => (await HistoryAsync(organizationId, to, ct)).ShardsDuring(from, to), time ?? TimeProvider.System, logger);

    /// <summary>A payment created now can be placed: the shard map vouches for this moment (503 when it cannot be read).</summary>
    public Task EnsureWritableAsync(CancellationToken cancellationToken) => (organizationShards ?? Unsplit).EnsureTrustedNowAsync(cancellationToken);

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
        // The item (its partition from the shard map) before the key is claimed: nothing after the claim may fail on the map.
        var item = await ItemOfAsync(payment, cancellationToken);
        try
        {
            if (!await TryPutRecordAsync(record, RecordKind.Create, payment, cancellationToken))
                return await FindIdempotencyRecordAsync(record.OrganizationId, record.Key, cancellationToken) ?? throw DomainErrors.IdempotencyKeyInFlight();
            // The key is claimed and the donor charged: the payment is written even if the client has gone away, or
            // GET would answer 404 and campaign totals would miss it until a retry completed it.
            using var finish = new CancellationTokenSource(_options.WriteTimeout);
            await PutPaymentIfAbsentAsync(item, finish.Token);
            return record;
        }
        catch (Exception e) when (unfinished is not null && e is not DomainException)
        {
            // The claim may stand without its payment (the claim's answer lost, the payment's put failed, or a retry's
            // completion failed with the first request gone): finished in the background as a retry would, whether or not
            // the client retries (a claim that never landed finishes as nothing).
            unfinished.Hold(record.OrganizationId, record.Key, ct => FindIdempotencyRecordAsync(record.OrganizationId, record.Key, ct));
            throw;
        }
    }

    public async Task<IdempotencyRecord?> UpdateAsync(PaymentTransaction updated, IdempotencyRecord? record, CancellationToken cancellationToken)
    {
        if (record is null)
        {
            // A refused condition after a lost answer may be our own write, retried: the payment then already is exactly this.
            if (!await TryApplyAsync(updated, null, cancellationToken) && !await IsAlreadyAsync(updated, cancellationToken)) throw DomainErrors.ConcurrentUpdate();
            return null;
        }

        await KeyOfAsync(updated, cancellationToken); // the shard map read before the key is claimed, as for a create
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
        Dictionary<string, AttributeValue>? key;
        if (PaymentItemKeys.CreatedAtOf(transactionId) is { } createdAt)
        {
            var shards = (await HistoryAsync(organizationId, createdAt, cancellationToken)).ShardsAt(createdAt);
            key = PaymentItemMapper.KeyOf(PaymentItemKeys.PartitionOf(organizationId, transactionId, shards), PaymentItemKeys.SortKeyOf(createdAt, transactionId));
        }
        else key = await FindKeyByIdAsync(transactionId, cancellationToken);
        if (key is null) return null;
        var item = await GetPaymentItemAsync(key, cancellationToken);
        // The id index answers for every organization: another one's payment is not found here.
        return item is null || item[PaymentItemKeys.OrganizationId].S != organizationId.ToString("D") ? null : PaymentItemMapper.FromItem(item);
    }

    // ----- keys -----

    /// <summary>The organization's shard history, trusted for payments created up to <paramref name="until"/>.</summary>
    private ValueTask<OrganizationShardHistory> HistoryAsync(Guid organizationId, DateTimeOffset until, CancellationToken cancellationToken) =>
        (organizationShards ?? Unsplit).ForAsync(organizationId, until, cancellationToken);

    private async ValueTask<int> ShardsOfAsync(PaymentTransaction payment, CancellationToken cancellationToken) =>
        (await HistoryAsync(payment.OrganizationId, payment.CreatedAt, cancellationToken)).ShardsAt(payment.CreatedAt);

    private async ValueTask<Dictionary<string, AttributeValue>> KeyOfAsync(PaymentTransaction payment, CancellationToken cancellationToken) =>
        PaymentItemMapper.KeyOf(payment, await ShardsOfAsync(payment, cancellationToken));

    private async ValueTask<Dictionary<string, AttributeValue>> ItemOfAsync(PaymentTransaction payment, CancellationToken cancellationToken) =>
        PaymentItemMapper.ToItem(payment, WriteShards, await ShardsOfAsync(payment, cancellationToken));

    // ----- helpers -----

    /// <summary>
    /// A payment write that may land in a closed hour: the hour is marked first, and the mark and the write together get
    /// <see cref="DynamoDbOptions.WriteTimeout"/> from the mark on, retries included, so the write leaves within it and lands
    /// within <see cref="PaymentAggregates.Settle"/> of its mark (a write the deadline cuts off fails as unavailable).
    /// </summary>
    private async Task<T> MarkedWriteAsync<T>(IEnumerable<(Guid OrganizationId, DateTimeOffset CreatedAt)> payments, Func<CancellationToken, Task<T>> write,
        CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(_options.WriteTimeout);
        await Aggregates.MarkAsync(payments, bound.Token);
        return await write(bound.Token);
    }

    private static (Guid OrganizationId, DateTimeOffset CreatedAt) OrganizationAndCreationOf(Dictionary<string, AttributeValue> paymentItem) =>
        (Guid.Parse(paymentItem[PaymentItemKeys.OrganizationId].S), PaymentItemMapper.ParseTime(paymentItem["createdAt"].S));

    private static Task<IReadOnlyList<T>> ScatterAsync<TInput, T>(IEnumerable<TInput> inputs, Func<TInput, CancellationToken, Task<T>> query, CancellationToken cancellationToken) =>
        DynamoDbReads.ScatterAsync(inputs, ScatterParallelism, query, cancellationToken);
}
