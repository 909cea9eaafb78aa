using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Infrastructure.Telemetry;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// How many write shards the pending index has (see <see cref="PaymentItemKeys"/>). Items keep the shard
/// they were written with and readers ask shards 0..n-1, so lowering n would hide every item written into a higher shard
/// (a pending bank transfer would never settle, an hour's totals would come up short): the count may only grow.
/// <para>
/// The transactions table records every count writers have used, one tag per count (<c>prolifeprosper:index-shards:16</c>):
/// tags with different keys never overwrite each other, so two replicas raising at once cannot lower the record. A replica
/// writes only with a count the table shows (a raise takes effect once its tag is read back) and reads across the larger
/// of that and <c>DynamoDb:WriteShards</c>, so nothing it or a peer wrote is outside any replica's reads. Checked at
/// start-up and every minute; its calls are not retried (the check itself runs again).
/// </para>
/// </summary>
public sealed class IndexShards(IAmazonDynamoDB dynamo, IOptions<DynamoDbOptions> options, ILogger<IndexShards> logger)
    : BackgroundService
{
    public const string TagPrefix = "prolifeprosper:index-shards:";
    private const int MaxShards = 1_000;
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMinutes(1);

    private volatile int _recorded; // the most shards the table shows; 0 until read

    /// <summary>The shard count to write with: the most the table records, or (never read) the configured count.</summary>
    public int ForWrites => _recorded > 0 ? _recorded : options.Value.WriteShards;

    /// <summary>The shard count to read across: every shard any writer may have used.</summary>
    public int ForReads => Math.Max(_recorded, options.Value.WriteShards);

    /// <summary>The tag a transactions table is created with, recording the count its first writers use.</summary>
    public static Tag Tag(int shards) => new() { Key = TagPrefix + shards.ToString(CultureInfo.InvariantCulture), Value = "used" };

    /// <summary>Reads what the table records, records a configured raise, and adopts what the table then shows.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        var table = options.Value.TransactionsTableName;
        var arn = (await dynamo.DescribeTableAsync(new DescribeTableRequest { TableName = table }, cancellationToken)).Table.TableArn;
        var recorded = await RecordedAsync(arn, cancellationToken);
        var configured = options.Value.WriteShards;
        if (configured > recorded)
        {
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
            else logger.LogWarning("DynamoDB index shards: the raise to {Configured} is not recorded on {Table} yet; writing with {Recorded}", configured, table, recorded);
        }
        else if (configured < recorded)
        {
            logger.LogWarning("DynamoDb:WriteShards is {Configured}, but items were written with up to {Recorded} shards: using {Recorded} (the count may only grow)",
                configured, recorded, recorded);
        }
        if (recorded > _recorded) _recorded = recorded;
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
        using var quiet = BackgroundTracing.Quiet(); // a check every minute; a raise is logged
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            await SyncAsync(timeout.Token);
        }
        catch (ResourceNotFoundException)
        {
            // No table yet: payments are not on DynamoDB. Tables are created tagged with the configured count.
        }
        catch (Exception e) when (e is AmazonDynamoDBException or Amazon.Runtime.AmazonClientException
                                  || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested) || DynamoDbCaller.IsTransient(e, cancellationToken))
        {
            // Visible when DynamoDB answered and refused (say, no permission to tag): until it succeeds, a configured raise is not
            // used for writes. Quiet when it is not reachable or not set up at all (a deployment with payments on PostgreSQL).
            logger.Log(e is Amazon.Runtime.AmazonServiceException ? LogLevel.Warning : LogLevel.Debug, e,
                "DynamoDB index shards not checked ({Error}); writing with {Write}, reading {Read}", e.GetType().Name, ForWrites, ForReads);
        }
    }

    private async Task<int> RecordedAsync(string arn, CancellationToken cancellationToken)
    {
        var tags = await dynamo.ListTagsOfResourceAsync(new ListTagsOfResourceRequest { ResourceArn = arn }, cancellationToken);
        return (tags.Tags ?? [])
            .Select(t => t.Key.StartsWith(TagPrefix, StringComparison.Ordinal)
                && int.TryParse(t.Key.AsSpan(TagPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= MaxShards ? n : 0)
            .DefaultIfEmpty(0).Max();
    }
}
