using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Api.Services;

/// <summary>A page of a newest-first list and the cursor of the next page, if any.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, PageCursor? Next);

/// <summary>Paging parameters shared by every list endpoint.</summary>
public sealed record PageRequest(int Limit, PageCursor? After)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;
}
