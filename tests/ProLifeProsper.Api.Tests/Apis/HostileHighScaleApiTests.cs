using System.Net;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Testing.Faults;

namespace ProLifeProsper.Api.Tests.Apis;

// The same API contract, with payments on a hostile DynamoDB (throttles, failed sends, lost answers, tiny pages).

public sealed class PaymentsApiOnHostileDynamoDbTests(HostileHighScaleApiFactory factory) : PaymentsApiTests<HostileHighScaleApiFactory>(factory)
{
    [Fact]
    public async Task The_hostile_profile_injects_every_kind_of_fault_into_the_api()
    {
        var tenant = await TestTenant.CreateAsync(Factory);
        var made = new List<PaymentResponse>();
        for (var i = 0; i < 15; i++) made.Add(await tenant.PayAsync(1_000 + i));
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Created, (await tenant.PostRefundAsync(made[i].TransactionId, 100, $"refund-{i}")).StatusCode);

        var listed = new List<PaymentResponse>();
        string? cursor = null;
        do
        {
            var page = await tenant.ListPaymentsAsync("?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            listed.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Equal(made.Select(p => p.TransactionId).Order(), listed.Select(p => p.TransactionId).Order());
        Assert.Equal(15, await DynamoDbPaymentCount.OfAsync(Factory.TablePrefix, tenant.OrganizationId));

        var ledger = Factory.Hostile.Ledger;
        foreach (var kind in Enum.GetValues<HostileFault>().Where(k => k != HostileFault.StaleIndexRead))
            Assert.True(ledger.FaultsOf(kind) > 0, $"no {kind} was injected (seed {HostileHighScaleApiFactory.Seed}): {ledger}");
    }
}

public sealed class IdempotencyApiOnHostileDynamoDbTests(HostileHighScaleApiFactory factory) : IdempotencyApiTests<HostileHighScaleApiFactory>(factory)
{
    protected override Task<long> CountStoredPaymentsAsync(Guid organizationId) => DynamoDbPaymentCount.OfAsync(Factory.TablePrefix, organizationId);
}
