using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Capacity;

/// <summary>
/// What the capacity model measures: the items the code writes over one card payment's life (created, partly refunded) and
/// one bank transfer's (created pending, settled), made as the service makes them — the domain's own
/// <see cref="PaymentTransaction.Create"/>, <see cref="PaymentTransaction.Settle"/> and <see cref="PaymentTransaction.Refund"/>,
/// the records it keeps — and turned into DynamoDB items by the store's own mappers (<see cref="PaymentItemMapper"/>,
/// <see cref="IdempotencyRecordItem"/>). A change that grows an item grows the model's units with it.
/// </summary>
public sealed class CapacityItems
{
    // Fixed instants: the round-trip time format has a fixed length, so sizes do not depend on when a plan runs.
    private static readonly DateTimeOffset CreatedAt = new(2026, 12, 31, 20, 0, 0, 123, TimeSpan.Zero);

    /// <summary>The key characters of a representative key: as in a UUID, none of which JSON escapes.</summary>
    private const string KeyAlphabet = "0123456789abcdef-";

    public required string IdempotencyKey { get; init; }
    public required int Shards { get; init; }

    /// <summary>The payments (domain objects) and their records, for checks that map them again.</summary>
    public required PaymentTransaction Card { get; init; }
    public required PaymentTransaction Pending { get; init; }
    public required PaymentTransaction Settled { get; init; }
    public required PaymentTransaction Refunded { get; init; }
    public required IdempotencyRecord CardRecord { get; init; }
    public required IdempotencyRecord PendingRecord { get; init; }
    public required IdempotencyRecord RefundRecord { get; init; }

    /// <summary>The items, as the store writes them.</summary>
    public required Dictionary<string, AttributeValue> CardItem { get; init; }
    public required Dictionary<string, AttributeValue> PendingItem { get; init; }
    public required Dictionary<string, AttributeValue> SettledItem { get; init; }
    public required Dictionary<string, AttributeValue> RefundedItem { get; init; }
    public required Dictionary<string, AttributeValue> CardRecordItem { get; init; }
    public required Dictionary<string, AttributeValue> PendingRecordItem { get; init; }
    public required Dictionary<string, AttributeValue> RefundRecordItem { get; init; }

    /// <summary>A key of <paramref name="length"/> characters that JSON does not escape (UUID characters).</summary>
    public static string RepresentativeKey(int length, char first = '0') =>
        string.Create(length, first, (span, start) =>
        {
            var offset = KeyAlphabet.IndexOf(start, StringComparison.Ordinal);
            for (var i = 0; i < span.Length; i++) span[i] = KeyAlphabet[(offset + i) % KeyAlphabet.Length];
        });

    /// <summary>The longest key a client may send, of characters JSON escapes to six bytes each (<c>+</c> becomes <c>\u002B</c>).</summary>
    public static string WorstCaseKey => new('+', IdempotencyRecord.MaxKeyLength);

    /// <param name="idempotencyKey">The key of the create; the refund's key is another of the same length and kind.</param>
    /// <param name="shards">The index shard count (<c>DynamoDb:WriteShards</c>).</param>
    /// <param name="extraPaymentBytes">Bytes a payment carries beyond what this code writes (custom metadata): added to every payment item and every copy of the payment in a record.</param>
    public static CapacityItems Build(string idempotencyKey, int shards, int extraPaymentBytes = 0)
    {
        var organizationId = Version7(CreatedAt, 1);
        var card = new PaymentRequest(Version7(CreatedAt, 2), Version7(CreatedAt, 3), 2_500, "USD", PaymentMethodType.Card, "tok_visa");
        var bankTransfer = card with { PaymentMethodType = PaymentMethodType.BankTransfer, PaymentMethodToken = "tok_bankTransfer" };

        // A create as PaymentTransactionService.CreateAsync makes it: the payment, and its record holding the payment as the response.
        var cardPayment = PaymentTransaction.Create(organizationId, card, GatewayOutcome.Succeeded, idempotencyKey, CreatedAt) with { TransactionId = IdOnLastShard(shards, 4) };
        var cardRecord = IdempotencyRecord.OfCreate(cardPayment, card.Fingerprint());
        var pending = PaymentTransaction.Create(organizationId, bankTransfer, GatewayOutcome.Pending, idempotencyKey, CreatedAt) with { TransactionId = IdOnLastShard(shards, 5) };
        var pendingRecord = IdempotencyRecord.OfCreate(pending, bankTransfer.Fingerprint());
        var settled = pending.Settle(CreatedAt.AddMinutes(1));

        // A partial refund (its status is the longer one) as RefundAsync makes it: the record holds the receipt (with the
        // refunded payment) as its response, and the refunded payment again as the change it applies.
        var refundKey = idempotencyKey[..^1] + OtherOfItsKind(idempotencyKey[^1]); // another key of the same length and kind
        var refundedAt = CreatedAt.AddDays(1);
        var refunded = cardPayment.Refund(1_000, refundedAt);
        var refundId = Version7(refundedAt, 6);
        var receipt = new RefundReceipt(refundId, 1_000, refunded.Currency, refundedAt, refunded);
        var refundRecord = new IdempotencyRecord(organizationId, refundKey, IdempotencyFingerprint.Of("payments.refund", cardPayment.TransactionId, "1000"),
            refundId, PaymentSnapshotJson.Serialize(receipt), refundedAt);

        return new CapacityItems
        {
            IdempotencyKey = idempotencyKey,
            Shards = shards,
            Card = cardPayment, Pending = pending, Settled = settled, Refunded = refunded,
            CardRecord = cardRecord, PendingRecord = pendingRecord, RefundRecord = refundRecord,
            CardItem = Pad(PaymentItemMapper.ToItem(cardPayment, shards, organizationShards: 1), extraPaymentBytes),
            PendingItem = Pad(PaymentItemMapper.ToItem(pending, shards, organizationShards: 1), extraPaymentBytes),
            SettledItem = Pad(PaymentItemMapper.ToItem(settled, shards, organizationShards: 1), extraPaymentBytes),
            RefundedItem = Pad(AfterUpdate(refunded, refundKey, shards), extraPaymentBytes),
            CardRecordItem = Pad(IdempotencyRecordItem.ToItem(cardRecord, "Create", cardPayment), extraPaymentBytes),
            PendingRecordItem = Pad(IdempotencyRecordItem.ToItem(pendingRecord, "Create", pending), extraPaymentBytes),
            RefundRecordItem = Pad(IdempotencyRecordItem.ToItem(refundRecord, "Update", refunded), 2 * extraPaymentBytes),
        };
    }

    /// <summary>
    /// The payment item after the store's conditional UpdateItem applied <paramref name="updated"/> under an idempotency key:
    /// every attribute the mapper writes for the new state, plus the key in the set of applied keys (ADD).
    /// </summary>
    public static Dictionary<string, AttributeValue> AfterUpdate(PaymentTransaction updated, string? key, int shards)
    {
        var item = PaymentItemMapper.ToItem(updated, shards, organizationShards: 1);
        if (key is not null) item[PaymentItemMapper.AppliedKeys] = new AttributeValue { SS = [key] };
        return item;
    }

    private static char OtherOfItsKind(char c) =>
        KeyAlphabet.IndexOf(c, StringComparison.Ordinal) is >= 0 and var i ? KeyAlphabet[(i + 1) % KeyAlphabet.Length] : c == '+' ? '&' : '+';

    /// <summary>Sizes of every item, as the plan reports them.</summary>
    public CapacityUnits.ItemSizes Sizes(CreateTableRequest transactions)
    {
        int Entry(string index) => CapacityUnits.IndexEntrySize(transactions, index, PendingItem) ?? 0;
        return new CapacityUnits.ItemSizes(
            IdempotencyKey.Length,
            DynamoDbItemSize.Of(CardItem), DynamoDbItemSize.Of(PendingItem), DynamoDbItemSize.Of(SettledItem), DynamoDbItemSize.Of(RefundedItem),
            DynamoDbItemSize.Of(CardRecordItem), DynamoDbItemSize.Of(RefundRecordItem),
            Entry(PaymentItemKeys.TransactionIdIndex), Entry(PaymentItemKeys.StatusTimestampIndex));
    }

    // Fixed ids, so that a plan is reproducible; a payment's on the last index shard, whose number has the most digits
    // (the shard is the id's last four bytes modulo the count).
    private static Guid IdOnLastShard(int shards, int seed) => Version7(CreatedAt, seed, (uint)(shards - 1));

    private static Guid Version7(DateTimeOffset at, int seed, uint last = 0)
    {
        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes, ((ulong)at.ToUnixTimeMilliseconds() << 16) | 0x7000);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes[8..], 0x8000_0000 | (uint)seed);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes[12..], last);
        return new Guid(bytes, bigEndian: true);
    }

    // Custom metadata, as one attribute of that many bytes (name included).
    private static Dictionary<string, AttributeValue> Pad(Dictionary<string, AttributeValue> item, int bytes)
    {
        if (bytes > 0) item["metadata"] = new(new string('m', Math.Max(1, bytes - "metadata".Length)));
        return item;
    }
}
