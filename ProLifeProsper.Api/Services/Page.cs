using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Api.Services;

/// <summary>Paging parameters shared by every list endpoint.</summary>
public sealed record PageRequest(int Limit, PageCursor? After)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;
}
