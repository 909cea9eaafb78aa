using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Options;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// How many write shards the pending and hourly indexes have (see <see cref="PaymentItemKeys"/>): the larger of
/// <c>DynamoDb:WriteShards</c> and the most any writer has used, which the transactions table keeps in its
/// <see cref="TagKey"/> tag. Items keep the shard they were written with and readers ask shards 0..n-1, so lowering n
/// would hide every item written into a higher shard (a pending bank transfer would never settle, an hour's totals
/// would come up short): the count may only grow, and a smaller configuration is overruled (and logged). A raise is
/// recorded on the table at start-up and re-checked every minute, so every replica reads the new shards within one
/// check of the first writer using them. Its calls are not retried: the check itself runs again every minute.
/// </summary>
public sealed class IndexShards(IAmazonDynamoDB dynamo, IOptions<DynamoDbOptions> options, ILogger<IndexShards> logger)
    : BackgroundService
{
    public const string TagKey = "prolifeprosper:index-shards";
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMinutes(1);

    private volatile int _current = options.Value.WriteShards;

    /// <summary>The shard count to write with and read across.</summary>
    public int Current => _current;

    /// <summary>The tag a new transactions table is created with.</summary>
    public static Tag Tag(int shards) => new() { Key = TagKey, Value = shards.ToString(CultureInfo.InvariantCulture) };

    /// <summary>Reads the table's record of the most shards used, adopts the larger count, and records a configured raise.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        var table = options.Value.TransactionsTableName;
        var arn = (await dynamo.DescribeTableAsync(new DescribeTableRequest { TableName = table }, cancellationToken)).Table.TableArn;
        var recorded = await RecordedAsync(arn, cancellationToken);
        var configured = options.Value.WriteShards;
        if (configured > recorded)
        {
            // Tags have no condition: two replicas raising at once may overwrite each other, and each re-checks every minute.
            try
            {
                await dynamo.TagResourceAsync(new TagResourceRequest { ResourceArn = arn, Tags = [Tag(configured)] }, cancellationToken);
            }
            catch (Exception e) when (e is IOException || DynamoDbCaller.IsTransient(e, cancellationToken))
            {
                // Maybe applied (dynalite answers TagResource with a body whose checksum the SDK rejects): look.
            }
            recorded = await RecordedAsync(arn, cancellationToken);
            if (recorded >= configured) logger.LogInformation("DynamoDB index shards: {Shards} recorded on {Table}", configured, table);
        }
        else if (configured < recorded)
        {
            logger.LogWarning("DynamoDb:WriteShards is {Configured}, but items were written with up to {Recorded} shards: using {Recorded} (the count may only grow)",
                configured, recorded, recorded);
        }
        if (recorded > _current) _current = recorded;
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Best effort before serving: with no DynamoDB tables (payments on PostgreSQL) there is nothing to agree on yet.
        await TrySyncAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken)) await TrySyncAsync(stoppingToken);
    }

    private async Task TrySyncAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            await SyncAsync(timeout.Token);
        }
        catch (Exception e) when (e is ResourceNotFoundException or AmazonDynamoDBException or Amazon.Runtime.AmazonClientException
                                  || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested) || DynamoDbCaller.IsTransient(e, cancellationToken))
        {
            logger.LogDebug(e, "DynamoDB index shards not checked ({Error}); using {Shards}", e.GetType().Name, _current);
        }
    }

    private async Task<int> RecordedAsync(string arn, CancellationToken cancellationToken)
    {
        var tags = await dynamo.ListTagsOfResourceAsync(new ListTagsOfResourceRequest { ResourceArn = arn }, cancellationToken);
        return tags.Tags?.FirstOrDefault(t => t.Key == TagKey) is { } tag && int.TryParse(tag.Value, CultureInfo.InvariantCulture, out var shards) ? shards : 0;
    }
}
