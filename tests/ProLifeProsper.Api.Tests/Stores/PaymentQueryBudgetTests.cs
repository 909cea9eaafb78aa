using ProLifeProsper.Api.Storage;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>Heavy reads of one organization cannot take every slot: beyond its share they wait, and past the wait they are refused (503).</summary>
public sealed class PaymentQueryBudgetTests
{
    [Fact]
    public async Task An_organization_past_its_share_waits_then_is_refused_while_another_organization_goes_on()
    {
        var budget = new PaymentQueryBudget(inAll: 3, perOrganization: 2, longestWait: TimeSpan.FromMilliseconds(200));
        var (busy, other) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        while ((uint)busy.GetHashCode() % 256 == (uint)other.GetHashCode() % 256) other = Guid.CreateVersion7(); // not one stripe
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = Enumerable.Range(0, 2).Select(_ => budget.RunAsync(busy, () => release.Task, default)).ToList();

        await Assert.ThrowsAsync<TimeoutException>(() => budget.RunAsync(busy, () => Task.FromResult(0), default));
        Assert.Equal(7, await budget.RunAsync(other, () => Task.FromResult(7), default));

        release.SetResult(1);
        var results = await Task.WhenAll(held);
        Assert.Equal(new[] { 1, 1 }, results);
        Assert.Equal(3, await budget.RunAsync(busy, () => Task.FromResult(3), default));
    }

    [Fact]
    public async Task The_instance_wide_slots_bound_all_organizations_together()
    {
        var budget = new PaymentQueryBudget(inAll: 2, perOrganization: 2, longestWait: TimeSpan.FromMilliseconds(200));
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = Enumerable.Range(0, 2).Select(_ => budget.RunAsync(Guid.CreateVersion7(), () => release.Task, default)).ToList();

        await Assert.ThrowsAsync<TimeoutException>(() => budget.RunAsync(Guid.CreateVersion7(), () => Task.FromResult(0), default));
        release.SetResult(1);
        await Task.WhenAll(held);
    }
}
