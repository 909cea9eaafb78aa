namespace ProLifeProsper.Api.Tests.Migration;

/// <summary>
/// The verifier walks both stores' lists side by side, so it must order ids as they do: PostgreSQL's uuid compares its
/// bytes, DynamoDB's sort key the canonical text; Guid.CompareTo must agree with both, or every page would "miss" payments.
/// </summary>
public sealed class VerifierOrderTests
{
    [Fact]
    public void Guids_compare_as_their_canonical_text()
    {
        var ids = Enumerable.Range(0, 5_000).Select(_ => Guid.NewGuid())
            .Concat(Enumerable.Range(0, 1_000).Select(_ => Guid.CreateVersion7(DateTimeOffset.UnixEpoch))) // equal times: the random bits decide
            .ToList();

        Assert.Equal(ids.Order().ToList(), ids.OrderBy(id => id.ToString("D"), StringComparer.Ordinal).ToList());
    }
}
