using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ProLifeProsper.Testing.Faults;

/// <summary>
/// Makes index reads eventually consistent on top of dynalite's synchronous indexes: each write is given a
/// propagation lag, and until it has passed the written item is left out of index reads. For a new item this is
/// exactly what DynamoDB does; for an updated one DynamoDB would still show the previous version (here: no version),
/// which is stale all the same. Items are matched by their table key, learnt from CreateTable requests and
/// DescribeTable answers (every index projects the table key).
/// </summary>
internal sealed class IndexPropagation
{
    private readonly ConcurrentDictionary<string, string[]> _keySchemas = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _visibleAt = new(StringComparer.Ordinal);

    public void LearnKeySchema(JsonNode? table)
    {
        if (table?["TableName"]?.GetValue<string>() is { } name && table["KeySchema"] is JsonArray schema)
            _keySchemas[name] = schema.Select(k => k!["AttributeName"]!.GetValue<string>()).ToArray();
    }

    /// <summary>Remembers a write to <paramref name="table"/> of the item with <paramref name="keyOrItem"/>, visible in indexes after <paramref name="lag"/>.</summary>
    public void RecordWrite(string table, JsonObject keyOrItem, TimeSpan lag)
    {
        if (lag <= TimeSpan.Zero || KeyOf(table, keyOrItem) is not { } key) return;
        var visibleAt = Stopwatch.GetTimestamp() + (long)(lag.TotalSeconds * Stopwatch.Frequency);
        _visibleAt.AddOrUpdate(key, visibleAt, (_, previous) => Math.Max(previous, visibleAt));
    }

    /// <summary>Whether the item's last write has not reached the indexes yet.</summary>
    public bool IsPropagating(string table, JsonObject item)
    {
        if (KeyOf(table, item) is not { } key || !_visibleAt.TryGetValue(key, out var visibleAt)) return false;
        if (visibleAt > Stopwatch.GetTimestamp()) return true;
        _visibleAt.TryRemove(KeyValuePair.Create(key, visibleAt));
        return false;
    }

    private string? KeyOf(string table, JsonObject item)
    {
        if (!_keySchemas.TryGetValue(table, out var schema)) return null;
        var parts = new List<string>(schema.Length + 1) { table };
        foreach (var attribute in schema)
        {
            if (item[attribute] is not { } value) return null;
            parts.Add(value.ToJsonString());
        }
        return string.Join('\u001f', parts);
    }
}
