using System.Text.Json;
using BenchmarkDotNet.Attributes;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Benchmarks;

/// <summary>In-process costs on every payment request: keys, item mapping, the idempotency fingerprint, JSON.</summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private PaymentTransaction _payment = null!;
    private PaymentRequest _request = null!;
    private Dictionary<string, Amazon.DynamoDBv2.Model.AttributeValue> _item = null!;
    private string _responseJson = "";

    [GlobalSetup]
    public void Setup()
    {
        var now = UtcClock.Now(TimeProvider.System);
        _request = new PaymentRequest(Guid.CreateVersion7(), Guid.CreateVersion7(), 2_500, "USD", PaymentMethodType.Card, "tok_visa");
        _payment = PaymentTransaction.Create(Guid.CreateVersion7(), _request, GatewayOutcome.Succeeded, "key-1", now);
        _item = PaymentItemMapper.ToItem(_payment, 8, organizationShards: 1);
        _responseJson = JsonSerializer.Serialize(PaymentResponse.From(_payment), Web);
    }

    [Benchmark] public string SortKeyFromId() => PaymentItemKeys.SortKeyOf(_payment.TransactionId)!;

    [Benchmark] public int ShardOfId() => PaymentItemKeys.ShardOf(_payment.TransactionId, 8);

    [Benchmark] public Dictionary<string, Amazon.DynamoDBv2.Model.AttributeValue> MapToItem() => PaymentItemMapper.ToItem(_payment, 8, organizationShards: 1);

    [Benchmark] public PaymentTransaction MapFromItem() => PaymentItemMapper.FromItem(_item);

    [Benchmark] public string IdempotencyFingerprint() => _request.Fingerprint();

    [Benchmark] public string SerializeResponse() => JsonSerializer.Serialize(PaymentResponse.From(_payment), Web);

    [Benchmark] public PaymentResponse? DeserializeResponse() => JsonSerializer.Deserialize<PaymentResponse>(_responseJson, Web);

    [Benchmark] public string SerializeSnapshot() => PaymentSnapshotJson.Serialize(_payment);
}
