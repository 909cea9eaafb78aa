using System.Text.Json;
using System.Text.Json.Serialization;

namespace ProLifeProsper.Domain.Payments;

/// <summary>
/// Serialises the results kept in idempotency records, identically for every store
/// (source-generated, so no reflection on the hot path).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(PaymentTransaction))]
[JsonSerializable(typeof(RefundReceipt))]
public sealed partial class PaymentSnapshotJson : JsonSerializerContext
{
    public static string Serialize(PaymentTransaction payment) => JsonSerializer.Serialize(payment, Default.PaymentTransaction);

    public static string Serialize(RefundReceipt receipt) => JsonSerializer.Serialize(receipt, Default.RefundReceipt);

    public static PaymentTransaction DeserializePayment(string json) =>
        JsonSerializer.Deserialize(json, Default.PaymentTransaction) ?? throw new InvalidDataException("Empty payment snapshot.");

    /// <summary>Whether a kept result is a refund's receipt (it names a <c>refundId</c>) rather than a payment.</summary>
    public static bool IsRefund(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("refundId", out _);
    }

    public static RefundReceipt DeserializeRefund(string json) =>
        JsonSerializer.Deserialize(json, Default.RefundReceipt) ?? throw new InvalidDataException("Empty refund snapshot.");
}
