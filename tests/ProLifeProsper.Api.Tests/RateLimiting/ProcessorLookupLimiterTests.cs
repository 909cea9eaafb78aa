using ProLifeProsper.Api.RateLimiting;

namespace ProLifeProsper.Api.Tests.RateLimiting;

/// <summary>The budget of processor look-ups made for refused requests (pure unit: it lives in memory).</summary>
public sealed class ProcessorLookupLimiterTests
{
    [Fact]
    public void A_card_tester_spending_its_budget_leaves_the_organizations_own_and_other_donors_untouched()
    {
        using var limiter = new ProcessorLookupLimiter();
        var (organization, tester, donor) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        var testerTook = Enumerable.Range(0, 100).Count(_ => limiter.TryTake(organization, tester));
        Assert.InRange(testerTook, ProcessorLookupLimiter.Budget.TokenLimit, ProcessorLookupLimiter.Budget.TokenLimit + ProcessorLookupLimiter.Budget.TokensPerPeriod);

        Assert.True(limiter.TryTake(organization)); // a retry after the campaign closed
        Assert.True(limiter.TryTake(organization, donor)); // another refused donor
        var organizationTook = 1 + Enumerable.Range(0, 100).Count(_ => limiter.TryTake(organization));
        Assert.InRange(organizationTook, ProcessorLookupLimiter.Budget.TokenLimit, ProcessorLookupLimiter.Budget.TokenLimit + ProcessorLookupLimiter.Budget.TokensPerPeriod);
    }
}
