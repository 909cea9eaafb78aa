using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>Read patterns the DynamoDB store and its aggregates share: every page of a query, and bounded scatter-gather.</summary>
public static class DynamoDbReads
{
    /// <summary>
    /// Every page of a query, one at a time (a page is at most 1 MB): a caller that sums need not hold what it sums.
    /// <paramref name="send"/> wraps each attempt of each page (a budget of queries at once); by default it just sends it.
    /// </summary>
    public static async IAsyncEnumerable<List<Dictionary<string, AttributeValue>>> PagesAsync(this DynamoDbCaller caller, IAmazonDynamoDB dynamo,
        QueryRequest request, string operation, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken,
        Func<Func<Task<QueryResponse>>, CancellationToken, Task<QueryResponse>>? send = null)
    {
        request.ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL;
        do
        {
            var response = await caller.CallAsync(operation, request.TableName,
                ct => send is null ? dynamo.QueryAsync(request, ct) : send(() => dynamo.QueryAsync(request, ct), ct), cancellationToken);
            yield return response.Items ?? [];
            request.ExclusiveStartKey = response.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (request.ExclusiveStartKey is not null);
    }

    /// <summary>Runs <paramref name="query"/> for every input, at most <paramref name="parallelism"/> at a time; results in no particular order.</summary>
    public static async Task<IReadOnlyList<T>> ScatterAsync<TInput, T>(IEnumerable<TInput> inputs, int parallelism, Func<TInput, CancellationToken, Task<T>> query,
        CancellationToken cancellationToken)
    {
        var results = new System.Collections.Concurrent.ConcurrentBag<T>();
        await Parallel.ForEachAsync(inputs, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (input, ct) => results.Add(await query(input, ct)));
        return [.. results];
    }
}
