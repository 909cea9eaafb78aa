using System.Buffers.Binary;
using System.Globalization;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// The key design of the transactions table, in one place.
/// <list type="bullet">
/// <item>Table: <c>organizationPartition</c> (partition) = <c>&lt;organization&gt;#k</c> + <c>timestampTransactionId</c> (sort) =
/// <c>2026-11-25T17:33:39.003Z#&lt;uuid&gt;</c>: fixed width, so string order is time order and a query on one
/// partition is chronological. <c>k</c> spreads a hot organization's writes over several partitions: k = hash(id) mod the
/// organization's shard count in effect when the payment was created (<see cref="OrganizationShardHistory"/>; 1 for almost
/// every organization, so k = 0). Payment timestamps have millisecond precision, the precision of the UUIDv7 id, so the
/// whole key is derived from the id alone: a get by id is one strongly consistent GetItem.</item>
/// <item>Idempotency table: <c>organizationPartition</c> = <c>&lt;organization&gt;#i</c>, i = hash(key) mod
/// <see cref="IdempotencyKeyShards"/> (fixed forever: a retry must find its key where the first request claimed it), and
/// the key as sort key. One organization's records spread over 16 partitions: 16,000 claims/s.</item>
/// <item><c>status-timestamp-index</c>: partition <c>statusShard</c> = <c>pending#n</c>. Sparse: only pending payments
/// carry it, because the only question asked of it is "pending payments, oldest first"; card payments never
/// pay for it.</item>
/// </list>
/// Why shards: one index partition takes at most 1,000 write units/s. A plain <c>pending</c> partition key would put
/// every pending payment of the platform into one partition and throttle it. <c>n</c> = hash(transaction id) mod shard
/// count spreads them evenly; reads ask every shard in parallel and merge (scatter-gather).
/// Payments no longer carry <c>dateHourShard</c>: the hourly index it keyed is read by nothing since analytics and campaign
/// progress come from kept totals, and an index entry per payment cost a write unit on every create and change.
/// </summary>
public static class PaymentItemKeys
{
    public const string Partition = "organizationPartition";
    public const string OrganizationId = "organizationId";
    public const string SortKey = "timestampTransactionId";
    public const string TransactionId = "transactionId";
    public const string StatusShard = "statusShard";
    /// <summary>Written by releases before the kept totals (the key of the hourly index); removed from an item when it changes.</summary>
    public const string LegacyDateHourShard = "dateHourShard";

    public const string TransactionIdIndex = "transactionId-index";
    public const string StatusTimestampIndex = "status-timestamp-index";

    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
    private const string HourFormat = "yyyy-MM-dd'T'HH";

    public static string Timestamp(DateTimeOffset value) => value.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    public static string SortKeyOf(DateTimeOffset createdAt, Guid transactionId) => $"{Timestamp(createdAt)}#{transactionId:D}";

    /// <summary>The (creation time, id) position a sort key names: where a read stopped, as a page cursor.</summary>
    public static (DateTimeOffset CreatedAt, Guid TransactionId) ParseSortKey(string sortKey) =>
        (DateTimeOffset.ParseExact(sortKey[..sortKey.IndexOf('#')], TimestampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
            Guid.Parse(sortKey[(sortKey.IndexOf('#') + 1)..]));

    /// <summary>The sort key of a payment from its id alone (UUIDv7 carries the creation millisecond); null for other ids.</summary>
    public static string? SortKeyOf(Guid transactionId) =>
        CreatedAtOf(transactionId) is { } createdAt ? SortKeyOf(createdAt, transactionId) : null;

    /// <summary>The creation time a UUIDv7 id carries (its first 48 bits, Unix milliseconds).</summary>
    public static DateTimeOffset? CreatedAtOf(Guid transactionId)
    {
        if (transactionId.Version != 7) return null;
        Span<byte> bytes = stackalloc byte[16];
        transactionId.TryWriteBytes(bytes, bigEndian: true, out _);
        var milliseconds = (long)(BinaryPrimitives.ReadUInt64BigEndian(bytes) >> 16);
        // 48 bits reach past year 9999: no payment was made then, whatever a client sends.
        return milliseconds <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds) : null;
    }

    /// <summary>Idempotency records of one organization are spread over this many partition keys. Never change it: keys
    /// already claimed would be looked for in the wrong place, and a retry would claim its key a second time.</summary>
    public const int IdempotencyKeyShards = 16;

    /// <summary>The base-table partition key of shard <paramref name="shard"/> of an organization.</summary>
    public static string PartitionOf(Guid organizationId, int shard) => $"{organizationId:D}#{shard.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The base-table partition key of a payment, given its organization's shard count when it was created.</summary>
    public static string PartitionOf(Guid organizationId, Guid transactionId, int organizationShards) =>
        PartitionOf(organizationId, OrganizationShardOf(transactionId, organizationShards));

    /// <summary>The organization shard of a payment: other random bits of the id than the index shard's, so the two are independent.</summary>
    public static int OrganizationShardOf(Guid transactionId, int shards)
    {
        if (shards <= 1) return 0;
        Span<byte> bytes = stackalloc byte[16];
        transactionId.TryWriteBytes(bytes, bigEndian: true, out _);
        return (int)((BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]) & 0x3FFF_FFFF) % (uint)shards); // without the variant bits
    }

    /// <summary>The idempotency table's partition key of a key: a stable hash (SHA-256; string.GetHashCode differs per process).</summary>
    public static string IdempotencyPartitionOf(Guid organizationId, string key)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key), hash);
        return PartitionOf(organizationId, (int)(BinaryPrimitives.ReadUInt32BigEndian(hash) % IdempotencyKeyShards));
    }

    /// <summary>A stable shard in [0, shards) from the id's random bits.</summary>
    public static int ShardOf(Guid transactionId, int shards)
    {
        Span<byte> bytes = stackalloc byte[16];
        transactionId.TryWriteBytes(bytes, bigEndian: true, out _);
        return (int)(BinaryPrimitives.ReadUInt32BigEndian(bytes[12..]) % (uint)shards);
    }

    public static string PendingShard(int shard) => $"pending#{shard.ToString(CultureInfo.InvariantCulture)}";

    public static string Hour(DateTimeOffset value) => value.UtcDateTime.ToString(HourFormat, CultureInfo.InvariantCulture);


    /// <summary>The start of the UTC hour that contains <paramref name="value"/>.</summary>
    public static DateTimeOffset FloorHour(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }
}
