namespace ProLifeProsper.Api.Services;

/// <summary>The result of an idempotent write: the value, and whether it is a replay of an earlier request.</summary>
public sealed record IdempotentResult<T>(T Value, bool Replayed);
