using System.Text;
using Amazon.DynamoDBv2.Model;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// DynamoDB's item size rules (what capacity units are charged on): each attribute's name in UTF-8 bytes plus
/// its value — strings in UTF-8 bytes, numbers about one byte per two significant digits plus one, booleans and
/// nulls one byte, sets the sum of their members, lists and maps three bytes plus their elements.
/// </summary>
/// <remarks>Used by the capacity model and by the live metric of failed conditional writes (whose answer carries no consumed capacity).</remarks>
public static class DynamoDbItemSize
{
    public static int Of(IReadOnlyDictionary<string, AttributeValue> item) => item.Sum(a => Encoding.UTF8.GetByteCount(a.Key) + Of(a.Value));

    /// <summary>The size of the attributes named, as an index projection stores them.</summary>
    public static int Of(IReadOnlyDictionary<string, AttributeValue> item, IEnumerable<string> attributes) =>
        attributes.Distinct().Where(item.ContainsKey).Sum(name => Encoding.UTF8.GetByteCount(name) + Of(item[name]));

    private static int Of(AttributeValue value)
    {
        if (value.S is not null) return Encoding.UTF8.GetByteCount(value.S);
        if (value.N is not null) return NumberSize(value.N);
        if (value.BOOL is not null || value.NULL is true) return 1;
        if (value.SS is { Count: > 0 } ss) return ss.Sum(Encoding.UTF8.GetByteCount);
        if (value.NS is { Count: > 0 } ns) return ns.Sum(NumberSize);
        if (value.L is { Count: > 0 } list) return 3 + list.Sum(v => 1 + Of(v));
        if (value.M is { Count: > 0 } map) return 3 + map.Sum(kv => 1 + Encoding.UTF8.GetByteCount(kv.Key) + Of(kv.Value));
        return 1;
    }

    /// <summary>Write units of writing (or failing a condition on) an item of <paramref name="bytes"/>: 1 per KB begun, at least 1.</summary>
    public static double WriteUnits(int bytes) => Math.Ceiling(Math.Max(1, bytes) / (double)WriteUnitBytes);

    /// <summary>Read units of reading <paramref name="bytes"/>: 1 per 4 KB begun strongly consistent, half that eventually consistent; at least one 4 KB block.</summary>
    public static double ReadUnits(int bytes, bool consistent) => Math.Ceiling(Math.Max(1, bytes) / (double)ReadUnitBytes) * (consistent ? 1 : 0.5);

    public const int WriteUnitBytes = 1_024;
    public const int ReadUnitBytes = 4_096;

    private static int NumberSize(string number)
    {
        var digits = number.TrimStart('-').Replace(".", "", StringComparison.Ordinal).Trim('0').Length;
        return Math.Max(1, (digits + 1) / 2) + 1;
    }
}
