using Microsoft.EntityFrameworkCore;
using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Api.Services;

/// <summary>
/// Newest-first keyset paging with a (created_at, id) row comparison: pages stay exact while rows
/// are inserted, and each page is an index range scan however deep the client goes.
/// </summary>
public static class KeysetPaging
{
    public static async Task<Page<T>> ToPageAsync<T>(this IQueryable<T> query, PageRequest page, CancellationToken cancellationToken)
        where T : class, ICreationOrdered
    {
        if (page.After is { } after)
            query = query.Where(e => EF.Functions.LessThan(ValueTuple.Create(e.CreatedAt, e.Id), ValueTuple.Create(after.CreatedAt, after.Id)));
        var items = await query.OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id).Take(page.Limit + 1).ToListAsync(cancellationToken);
        return Page<T>.FromOverfetch(items, page.Limit, e => new PageCursor(e.CreatedAt, e.Id));
    }
}
