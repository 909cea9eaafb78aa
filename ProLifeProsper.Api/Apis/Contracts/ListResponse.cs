namespace ProLifeProsper.Api.Apis.Contracts;

/// <summary>Every list answers <c>{ "items": [...], "nextCursor": null | "..." }</c>.</summary>
public sealed record ListResponse<T>(IReadOnlyList<T> Items, string? NextCursor);
