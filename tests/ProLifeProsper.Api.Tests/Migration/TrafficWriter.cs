using System.Collections.Concurrent;
using System.Net;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Tests.Infrastructure;
namespace ProLifeProsper.Api.Tests.Migration;

/// <summary>
/// Live traffic during a migration: creates card and bank-transfer payments and refunds them, remembering every
/// acknowledged (201) result, so the test can prove each one is served afterwards with at least that state, together with
/// the history seeded before the migration. With <paramref name="tolerateUnavailable"/> a 503 (the store down, a fault the
/// test injects) is an allowed answer too, never acknowledged.
/// </summary>
public sealed class TrafficWriter(IReadOnlyList<TestTenant> tenants, IReadOnlyList<PaymentTransaction> seeded, bool tolerateUnavailable = false)
{
    private int _unavailable;

    private readonly ConcurrentDictionary<Guid, (TestTenant Tenant, PaymentResponse Latest)> _acknowledged = new();
    private readonly ConcurrentBag<string> _failures = [];
    private int _writes;

    public int Writes => _writes;

    /// <summary>Payments acknowledged so far (201).</summary>
    public int Acknowledged => _acknowledged.Count;

    /// <summary>Writes answered 503 (only with tolerateUnavailable).</summary>
    public int Unavailable => _unavailable;

    public IReadOnlyCollection<string> Failures => _failures;

    /// <summary>One writer; each writer has its own <paramref name="seed"/>, so writers send different requests.</summary>
    public async Task RunAsync(int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            var tenant = tenants[random.Next(tenants.Count)];
            try
            {
                var roll = random.Next(100);
                if (roll < 25 && PickRefundable(tenant, random) is { } target)
                {
                    var response = await tenant.PostRefundAsync(target.TransactionId, 1 + random.Next(50), Guid.NewGuid().ToString());
                    if (response.StatusCode == HttpStatusCode.Created) Remember(tenant, (await TestTenant.ReadAsync<RefundResponse>(response, HttpStatusCode.Created)).Payment);
                    else Expect(response, HttpStatusCode.Conflict, HttpStatusCode.UnprocessableEntity);
                }
                else
                {
                    var bank = roll > 85;
                    var response = await tenant.PostPaymentAsync(
                        tenant.PaymentBody(500 + random.Next(5_000), bank ? "tok_bankTransfer" : "tok_visa", bank ? "bank_transfer" : "card"), Guid.NewGuid().ToString());
                    // A create with a fresh key has nothing to conflict with: in every phase it must be taken.
                    if (response.StatusCode == HttpStatusCode.Created) Remember(tenant, await TestTenant.ReadAsync<PaymentResponse>(response, HttpStatusCode.Created));
                    else Expect(response);
                }
                Interlocked.Increment(ref _writes);
                await Task.Delay(20, stop); // steady traffic, not a stress test
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                _failures.Add(e.Message);
            }
        }
    }

    /// <summary>Every acknowledged payment is served exactly once, in at least the state that was acknowledged.</summary>
    public async Task AssertServedAsync(bool exact = false)
    {
        var acknowledged = _acknowledged.ToArray();
        Assert.Empty(_failures);
        foreach (var tenant in tenants)
        {
            var served = new Dictionary<Guid, PaymentResponse>();
            string? cursor = null;
            do
            {
                var page = await tenant.ListPaymentsAsync("?limit=500" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
                foreach (var item in page.Items) Assert.True(served.TryAdd(item.TransactionId, item), $"payment {item.TransactionId} listed twice");
                cursor = page.NextCursor;
            }
            while (cursor is not null);

            foreach (var history in seeded.Where(p => p.OrganizationId == tenant.OrganizationId))
            {
                Assert.True(served.TryGetValue(history.TransactionId, out var now), $"seeded payment {history.TransactionId} is missing");
                Assert.Equal(history.AmountMinor, now!.AmountMinor);
                Assert.Equal(history.RefundedAmountMinor, now.RefundedAmountMinor);
                // Only the settlement worker may have moved it on (pending → succeeded).
                Assert.True(now.Status == history.Status.ToWire() || (history.Status == PaymentStatus.Pending && now.Status == "succeeded"),
                    $"seeded payment {history.TransactionId}: {history.Status.ToWire()} became {now.Status}");
            }

            foreach (var (id, (owner, latest)) in acknowledged.Where(a => a.Value.Tenant == tenant))
            {
                Assert.True(served.TryGetValue(id, out var now), $"acknowledged payment {id} is missing");
                Assert.True(now!.RefundedAmountMinor >= latest.RefundedAmountMinor, $"payment {id}: refunded {now.RefundedAmountMinor} < acknowledged {latest.RefundedAmountMinor}");
                if (exact) Assert.Equal(latest.RefundedAmountMinor, now.RefundedAmountMinor);
                Assert.Equal(latest.AmountMinor, now.AmountMinor);
                Assert.True(latest.Status == "pending" || now.Status != "pending", $"payment {id} went back to pending");
            }
        }
    }

    private void Remember(TestTenant tenant, PaymentResponse payment) =>
        _acknowledged.AddOrUpdate(payment.TransactionId, (tenant, payment),
            (_, existing) => existing.Latest.RefundedAmountMinor >= payment.RefundedAmountMinor && existing.Latest.UpdatedAt >= payment.UpdatedAt ? existing : (tenant, payment));

    private PaymentResponse? PickRefundable(TestTenant tenant, Random random)
    {
        var candidates = _acknowledged.Values.Where(a => a.Tenant == tenant && a.Latest.Status is "succeeded" or "partially_refunded").Select(a => a.Latest).ToList();
        return candidates.Count == 0 ? null : candidates[random.Next(candidates.Count)];
    }

    private void Expect(HttpResponseMessage response, params HttpStatusCode[] allowed)
    {
        if (tolerateUnavailable && response.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            Interlocked.Increment(ref _unavailable);
            return;
        }
        if (!allowed.Contains(response.StatusCode)) _failures.Add($"unexpected {(int)response.StatusCode}: {response.Content.ReadAsStringAsync().Result}");
    }
}
