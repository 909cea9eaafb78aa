using Amazon.DynamoDBv2.Model;

namespace ProLifeProsper.Api.Storage.DynamoDb.Aggregates;

/// <summary>
/// The totals of each period (an hour or a slice) of [from, to) as its payments are read, each shard page by page in time
/// order. When the read is cut off (a deadline, a failure), the periods that every shard has read past are complete and
/// can still be kept: a read too long for one request leaves progress for the next instead of starting over every time.
/// Not thread-safe: the reader adds under its own lock.
/// </summary>
internal sealed class PaymentsByPeriod
{
    private readonly DateTimeOffset _from;
    private readonly TimeSpan _length;
    private readonly Dictionary<DateTimeOffset, (PaymentTotals Totals, int Payments)> _periods = [];
    private readonly Dictionary<int, DateTimeOffset> _reached = []; // per shard: every payment created before this has been read

    public PaymentsByPeriod(DateTimeOffset from, DateTimeOffset to, TimeSpan length)
    {
        (_from, _length) = (from, length);
        for (var period = from; period < to; period += length) _periods[period] = (new PaymentTotals(), 0);
    }

    /// <summary>A shard is about to be read: nothing of it is known yet.</summary>
    public void Started(int shard) => _reached[shard] = _from;

    /// <summary>Adds a page of a shard's payments (in time order): every payment of that shard before its last one has been read.</summary>
    public void Add(int shard, IReadOnlyList<Dictionary<string, AttributeValue>> page)
    {
        foreach (var item in page)
        {
            var createdAt = PaymentItemMapper.ParseTime(item["createdAt"].S);
            var period = _from + TimeSpan.FromTicks((createdAt - _from).Ticks / _length.Ticks * _length.Ticks);
            var (totals, payments) = _periods[period];
            totals.Add(item);
            _periods[period] = (totals, payments + 1);
            _reached[shard] = createdAt; // a payment of the same instant may still follow on the next page
        }
    }

    /// <summary>A shard has been read to the end of the range.</summary>
    public void Finished(int shard) => _reached[shard] = DateTimeOffset.MaxValue;

    /// <summary>Every period, once the read has finished.</summary>
    public Dictionary<DateTimeOffset, (PaymentTotals Totals, int Payments)> All() => new(_periods);

    /// <summary>The periods every shard has read past (all of them once every shard has finished), each with how many payments it holds.</summary>
    public Dictionary<DateTimeOffset, (PaymentTotals Totals, int Payments)> Complete()
    {
        var before = _reached.Count == 0 ? _from : _reached.Values.Min();
        return _periods.Where(p => p.Key + _length <= before).ToDictionary(p => p.Key, p => p.Value);
    }
}
