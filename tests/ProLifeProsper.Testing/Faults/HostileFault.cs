namespace ProLifeProsper.Testing.Faults;

/// <summary>What the hostile DynamoDB profile does to a request (see <see cref="HostileDynamoDbProfile"/>).</summary>
public enum HostileFault
{
    /// <summary>Answered 400 ProvisionedThroughputExceededException; not forwarded.</summary>
    Throttle,

    /// <summary>An HttpRequestException (connection refused) before anything is sent; not forwarded.</summary>
    FailedBeforeSend,

    /// <summary>Forwarded (the write is applied), its answer dropped, answered 500 InternalServerError instead.</summary>
    AppliedThenServerError,

    /// <summary>Forwarded (the write is applied), then the connection "resets": HttpRequestException wrapping an IOException.</summary>
    AppliedThenReset,

    /// <summary>A Query or Scan whose <c>Limit</c> is cut to 1 or 2, so the caller must follow LastEvaluatedKey.</summary>
    TinyPage,

    /// <summary>An index read that did not yet see a recent write (the item is left out of the answer).</summary>
    StaleIndexRead,
}
