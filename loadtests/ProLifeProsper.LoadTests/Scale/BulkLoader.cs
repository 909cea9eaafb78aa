using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.LoadTests.Scale;

/// <summary>
/// Loads payments straight into the transactions table, built by the API's own mapper (<see cref="PaymentItemMapper"/>), 25 per
/// BatchWriteItem, several batches in flight. Payments only: reads (get, list, totals, analytics) never touch idempotency records.
/// </summary>
public static class BulkLoader
{
    public static async Task<long> LoadAsync(IAmazonDynamoDB dynamo, string table, IEnumerable<PaymentTransaction> payments, int indexShards,
        Action<long> progress, CancellationToken cancellationToken)
    {
        long written = 0;
        await Parallel.ForEachAsync(payments.Chunk(25), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (chunk, ct) =>
        {
            var requests = chunk.Select(p => new WriteRequest { PutRequest = new PutRequest { Item = PaymentItemMapper.ToItem(p, indexShards, organizationShards: 1) } }).ToList();
            for (var attempt = 0; requests.Count > 0; attempt++)
            {
                var response = await dynamo.BatchWriteItemAsync(new BatchWriteItemRequest { RequestItems = new() { [table] = requests } }, ct);
                requests = response.UnprocessedItems?.TryGetValue(table, out var left) == true ? left : [];
                if (requests.Count > 0) await Task.Delay(Math.Min(1_000, 20 << Math.Min(attempt, 5)), ct);
            }
            progress(Interlocked.Add(ref written, chunk.Length));
        });
        return written;
    }
}
