namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Throughput a table or index must take at once, without throttling while on-demand capacity adapts (a new on-demand
/// table starts warm for 4,000 writes/s and 12,000 reads/s, and then takes about twice its previous peak within 30 minutes:
/// a fresh deployment before a telethon must be pre-warmed). <c>plan</c> prints the values for a traffic profile.
/// </summary>
public sealed class DynamoDbWarmThroughput
{
    public long? ReadUnitsPerSecond { get; set; }

    public long? WriteUnitsPerSecond { get; set; }

    internal Amazon.DynamoDBv2.Model.WarmThroughput? ToRequest() => ReadUnitsPerSecond is null && WriteUnitsPerSecond is null ? null
        : new Amazon.DynamoDBv2.Model.WarmThroughput { ReadUnitsPerSecond = ReadUnitsPerSecond, WriteUnitsPerSecond = WriteUnitsPerSecond };
}
