using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Compares a table as DynamoDB describes it with the definition this code expects (<see cref="DynamoDbTables"/>): keys,
/// every index's keys and projection, and that the table and every index are ACTIVE. An existing table is trusted only
/// as far as this goes: an index being added is listed on an ACTIVE table while reads of it fail for hours.
/// </summary>
public static class DynamoDbSchemaCheck
{
    public static IReadOnlyList<string> Problems(CreateTableRequest expected, TableDescription actual)
    {
        var problems = new List<string>();
        var table = expected.TableName;
        if (actual.TableStatus != TableStatus.ACTIVE && actual.TableStatus != TableStatus.UPDATING)
            problems.Add($"table {table} is {actual.TableStatus}, not ACTIVE");
        if (!SameKeys(expected.KeySchema, actual.KeySchema))
            problems.Add($"table {table} is keyed {Describe(actual.KeySchema)}, but this code needs {Describe(expected.KeySchema)}");
        foreach (var index in expected.GlobalSecondaryIndexes ?? [])
        {
            var found = actual.GlobalSecondaryIndexes?.FirstOrDefault(i => i.IndexName == index.IndexName);
            if (found is null)
            {
                problems.Add($"index {index.IndexName} of table {table} is missing");
                continue;
            }
            if (!SameKeys(index.KeySchema, found.KeySchema))
                problems.Add($"index {index.IndexName} of table {table} is keyed {Describe(found.KeySchema)}, but this code needs {Describe(index.KeySchema)}");
            if (found.Projection?.ProjectionType != index.Projection.ProjectionType
                || (index.Projection.NonKeyAttributes ?? []).Except(found.Projection?.NonKeyAttributes ?? []).Any())
                problems.Add($"index {index.IndexName} of table {table} projects {found.Projection?.ProjectionType} " +
                    $"[{string.Join(", ", found.Projection?.NonKeyAttributes ?? [])}], but this code needs {index.Projection.ProjectionType} " +
                    $"[{string.Join(", ", index.Projection.NonKeyAttributes ?? [])}]");
            if (found.IndexStatus != IndexStatus.ACTIVE || found.Backfilling == true)
                problems.Add($"index {index.IndexName} of table {table} is {found.IndexStatus}{(found.Backfilling == true ? " (backfilling)" : "")}: reads of it fail until it is ACTIVE");
        }
        return problems;
    }

    private static bool SameKeys(List<KeySchemaElement> expected, List<KeySchemaElement>? actual) =>
        actual is not null && expected.Count == actual.Count
        && expected.Zip(actual).All(p => p.First.AttributeName == p.Second.AttributeName && p.First.KeyType == p.Second.KeyType);

    private static string Describe(List<KeySchemaElement>? keys) =>
        keys is null ? "(nothing)" : "(" + string.Join(", ", keys.Select(k => $"{k.AttributeName} {k.KeyType}")) + ")";
}
