namespace ProLifeProsper.Api.Storage.DynamoDb.Aggregates;

/// <summary>
/// How many queries of payments an API instance sends at once for kept totals: 64 in all, 16 per organization (by a stripe
/// of its id). A read of an organization's 64 shards under the nested parallelism of its months, hours and slices must not
/// open thousands of queries (and sockets) at once, nor queue every other organization's small read behind it. A slot is
/// taken per attempt, not per page: a query sleeping in its retry back-off holds none.
/// </summary>
internal static class PaymentQueryBudget
{
    private const int InAll = 64, PerOrganization = 16, Stripes = 256;

    private static readonly SemaphoreSlim All = new(InAll);
    private static readonly SemaphoreSlim[] ByOrganization = Enumerable.Range(0, Stripes).Select(_ => new SemaphoreSlim(PerOrganization)).ToArray();

    /// <summary>Sends <paramref name="query"/> once a slot of the organization's stripe and one of the instance's are free.</summary>
    public static async Task<T> RunAsync<T>(Guid organizationId, Func<Task<T>> query, CancellationToken cancellationToken)
    {
        var stripe = ByOrganization[(uint)organizationId.GetHashCode() % Stripes];
        await stripe.WaitAsync(cancellationToken);
        try
        {
            await All.WaitAsync(cancellationToken);
            try
            {
                return await query();
            }
            finally
            {
                All.Release();
            }
        }
        finally
        {
            stripe.Release();
        }
    }
}
