namespace ProLifeProsper.Api.Storage;

/// <summary>
/// How many heavy queries of payments (reads for totals) an API instance sends at once: so many in all, and so many per
/// organization (by a stripe of its id), so that one organization's reads cannot take every connection or socket, nor
/// queue every other organization's small read behind them.
/// </summary>
/// <param name="inAll">Queries at once on this instance.</param>
/// <param name="perOrganization">Queries at once of one organization (of its stripe: 256 stripes).</param>
/// <param name="longestWait">How long a query may wait for its slots before its request answers 503 (null: as long as its caller waits).</param>
internal sealed class PaymentQueryBudget(int inAll, int perOrganization, TimeSpan? longestWait = null)
{
    private const int Stripes = 256;

    /// <summary>
    /// DynamoDB reads for kept totals: a read of an organization's 64 shards under the nested parallelism of its months, hours
    /// and slices must not open thousands of queries at once. A slot is taken per attempt, not per page: a query sleeping in
    /// its retry back-off holds none.
    /// </summary>
    public static PaymentQueryBudget DynamoDbTotals { get; } = new(inAll: 64, perOrganization: 16);

    /// <summary>
    /// PostgreSQL's campaign totals, an aggregate over the campaigns' payments (its cost grows with them): a large
    /// organization's progress pages hold at most 4 of the pool's connections on an instance, all organizations 24.
    /// </summary>
    public static PaymentQueryBudget PostgreSqlCampaignTotals { get; } = new(inAll: 24, perOrganization: 4, longestWait: TimeSpan.FromSeconds(10));

    /// <summary>
    /// PostgreSQL's hourly analytics, an aggregate over every payment of the range: a budget of its own (2 per
    /// organization, 8 in all), so that long analytics ranges never queue the campaign progress that donation pages show.
    /// </summary>
    public static PaymentQueryBudget PostgreSqlHourlyTotals { get; } = new(inAll: 8, perOrganization: 2, longestWait: TimeSpan.FromSeconds(10));

    private readonly SemaphoreSlim _all = new(inAll);
    private readonly SemaphoreSlim[] _byOrganization = Enumerable.Range(0, Stripes).Select(_ => new SemaphoreSlim(perOrganization)).ToArray();

    /// <summary>Sends <paramref name="query"/> once a slot of the organization's stripe and one of the instance's are free.</summary>
    public async Task<T> RunAsync<T>(Guid organizationId, Func<Task<T>> query, CancellationToken cancellationToken)
    {
        var stripe = _byOrganization[(uint)organizationId.GetHashCode() % Stripes];
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (longestWait is { } wait) waiting.CancelAfter(wait);
        await WaitAsync(stripe, waiting.Token, cancellationToken);
        try
        {
            await WaitAsync(_all, waiting.Token, cancellationToken);
            try
            {
                return await query();
            }
            finally
            {
                _all.Release();
            }
        }
        finally
        {
            stripe.Release();
        }
    }

    private async Task WaitAsync(SemaphoreSlim slots, CancellationToken waiting, CancellationToken cancellationToken)
    {
        try
        {
            await slots.WaitAsync(waiting);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Too many reads of payment totals are running; no slot was free within {longestWait?.TotalSeconds:0} s. Try again shortly.");
        }
    }
}
