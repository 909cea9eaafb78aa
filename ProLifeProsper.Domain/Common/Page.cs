namespace ProLifeProsper.Domain.Common;

/// <summary>A page of a newest-first list and the cursor of the next page, if any (every list: payments, campaigns, donors).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, PageCursor? Next)
{
    /// <summary>
    /// The page from a read of <paramref name="limit"/> + 1 items, newest first: the extra item only says that another page
    /// follows, after the last item kept (<paramref name="cursorOf"/>).
    /// </summary>
    public static Page<T> FromOverfetch(List<T> fetched, int limit, Func<T, PageCursor> cursorOf)
    {
        if (fetched.Count <= limit) return new Page<T>(fetched, null);
        fetched.RemoveRange(limit, fetched.Count - limit);
        return new Page<T>(fetched, cursorOf(fetched[^1]));
    }
}
