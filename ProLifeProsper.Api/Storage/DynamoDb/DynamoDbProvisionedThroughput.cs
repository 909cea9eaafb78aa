namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Provisioned read and write capacity units of one table or index (<c>DynamoDb:ProvisionedThroughput:&lt;target&gt;</c>),
/// in <see cref="DynamoDbBillingMode.Provisioned"/> mode only: each table and each global secondary index is a pool of its
/// own, billed and throttled on its own. A unit left out falls back to <see cref="DynamoDbOptions.ReadCapacityUnits"/> or
/// <see cref="DynamoDbOptions.WriteCapacityUnits"/>. <c>plan</c> prints the values for a traffic profile.
/// </summary>
public sealed class DynamoDbProvisionedThroughput
{
    public long? ReadCapacityUnits { get; set; }

    public long? WriteCapacityUnits { get; set; }
}
