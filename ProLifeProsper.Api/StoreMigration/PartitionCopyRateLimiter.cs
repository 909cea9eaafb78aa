using System.Threading.RateLimiting;

namespace ProLifeProsper.Api.StoreMigration;

/// <summary>
/// Caps the backfill's writes to any one organization at <c>Migration:BackfillItemsPerSecondPerOrganization</c>. An
/// organization that is not split has one partition key in the transactions table (and 16 in the idempotency table), and
/// one partition takes 1,000 write units a second: copied in order (payments by time, where a large organization fills
/// whole stretches), its history would otherwise land on one partition at the whole backfill rate, throttling the copy and
/// that organization's live writes. Other organizations' items go on meanwhile.
/// </summary>
public sealed class PartitionCopyRateLimiter(int perSecondPerOrganization) : IDisposable
{
    private readonly PartitionedRateLimiter<Guid> _limiter = PartitionedRateLimiter.Create<Guid, Guid>(organization =>
        RateLimitPartition.GetTokenBucketLimiter(organization, _ => CopyRateLimiter.Bucket(perSecondPerOrganization)));

    /// <summary>Waits for the organization's token for one item.</summary>
    public async Task AcquireAsync(Guid organizationId, CancellationToken cancellationToken)
    {
        using var lease = await _limiter.AcquireAsync(organizationId, 1, cancellationToken);
    }

    public void Dispose() => _limiter.Dispose();
}
