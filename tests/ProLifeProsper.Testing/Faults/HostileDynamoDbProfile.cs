namespace ProLifeProsper.Testing.Faults;

/// <summary>
/// How hostile the DynamoDB in front of dynalite is: the seed of its dice and the probability of each fault per
/// request. Throttles and failures before sending hit every operation; lost answers hit the operations in
/// <see cref="LostAnswerOperations"/> (writes: each is conditional, or a batched copy sent once whose repeat puts the same items, so a repeat is safe);
/// tiny pages hit Query and Scan; index lag hides an item from index reads for a seeded time after it was written.
/// </summary>
public sealed record HostileDynamoDbProfile
{
    /// <summary>The operations (the part after the dot of X-Amz-Target) whose answer may be lost after they were applied.</summary>
    public static readonly IReadOnlySet<string> Writes = new HashSet<string>(StringComparer.Ordinal)
    {
        "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "CreateTable",
    };

    public int Seed { get; init; } = 1;

    /// <summary>Probability that a request is throttled (answered 400 ProvisionedThroughputExceededException).</summary>
    public double Throttle { get; init; }

    /// <summary>Probability that a request fails before it is sent (HttpRequestException, nothing forwarded).</summary>
    public double FailBeforeSend { get; init; }

    /// <summary>Probability that a write is applied but answered 500 InternalServerError.</summary>
    public double AppliedThenServerError { get; init; }

    /// <summary>Probability that a write is applied but its connection resets before the answer.</summary>
    public double AppliedThenReset { get; init; }

    /// <summary>Operations whose answer may be lost after they were applied (<see cref="AppliedThenServerError"/>, <see cref="AppliedThenReset"/>).</summary>
    public IReadOnlySet<string> LostAnswerOperations { get; init; } = Writes;

    /// <summary>Probability that a Query or Scan has its Limit cut to 1 or 2.</summary>
    public double TinyPage { get; init; }


    /// <summary>
    /// Index reads are eventually consistent: an item written (put, updated or deleted) less than a seeded lag in
    /// [0, MaxIndexLag) ago is left out of Query answers on an index. Zero: indexes are synchronous, as in dynalite.
    /// </summary>
    public TimeSpan MaxIndexLag { get; init; }

    /// <summary>Every fault at once, often enough that every test meets several; index lag included.</summary>
    public static HostileDynamoDbProfile Hostile(int seed) => new()
    {
        Seed = seed,
        Throttle = 0.06,
        FailBeforeSend = 0.04,
        AppliedThenServerError = 0.06,
        AppliedThenReset = 0.06,
        TinyPage = 0.5,
        MaxIndexLag = TimeSpan.FromMilliseconds(250),
    };
}
