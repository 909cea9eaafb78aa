namespace ProLifeProsper.Api.Apis.Contracts;

/// <summary>How many DynamoDB partition keys an organization's new payments are spread over (1 to 64).</summary>
public sealed record PaymentShardsRequest(int? Shards);

/// <summary>A recorded change: payments created from <c>EffectiveFrom</c> on are spread over <c>Shards</c> keys.</summary>
public sealed record PaymentShardChangeResponse(DateTimeOffset EffectiveFrom, int Shards);

/// <summary>An organization's shard count now, and every change recorded (a change takes effect five minutes after it is made).</summary>
public sealed record PaymentShardsResponse(Guid OrganizationId, int ShardsNow, IReadOnlyList<PaymentShardChangeResponse> Changes);
