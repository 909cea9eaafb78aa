using System.Net;
using System.Text.Json.Nodes;

namespace ProLifeProsper.Simulation;

/// <summary>
/// What must hold whatever happened: every acknowledged create and refund exists exactly once; no idempotency key maps
/// to two payments; a replay answers the first response byte for byte; no payment, and no processor ledger entry, refunds
/// more than the payment; the processor paid exactly what the store recorded; campaign totals equal their payments.
/// </summary>
public sealed class Invariants(World world, ApiCalls api, Random random)
{
    /// <summary>Between steps: every acknowledged payment is served, once, with at least its acknowledged refunds.</summary>
    public async Task CheckServedAsync(string when)
    {
        world.Count("checks");
        foreach (var organization in world.Organizations)
        {
            // What was acknowledged before the store is read (clients keep writing meanwhile: later answers are for the next check).
            var acknowledged = world.Creates.Values.Where(c => c.Organization == organization && c.AcknowledgedId is not null).ToList();
            var refunds = AcknowledgedRefunds();
            var served = await ListAsync(organization);
            if (served is null) { world.Count("checks.unavailable"); continue; }
            foreach (var intent in acknowledged)
            {
                var id = intent.AcknowledgedId!.Value;
                var payment = served.GetValueOrDefault(id) ?? await GetAsync(organization, id); // a read may act on a view one poll old
                if (payment is null) { world.Violation($"{when}: acknowledged payment {id} ({intent.Key}) is not served"); continue; }
                CheckPayment(payment, refunds.GetValueOrDefault(id), when);
            }
        }
    }

    private Dictionary<Guid, long> AcknowledgedRefunds() => world.Refunds.Values.Where(r => r.AcknowledgedBody is not null)
        .GroupBy(r => r.TransactionId).ToDictionary(g => g.Key, g => g.Sum(r => r.AcknowledgedAmount));

    /// <summary>At the end, in a quiet system: every key replayed, every payment accounted for, the books balanced.</summary>
    public async Task CheckFinalAsync(SandboxLedgerView ledger)
    {
        var idsByKey = new Dictionary<string, Guid>();
        foreach (var intent in world.Creates.Values)
        {
            var replay = await ReplayAsync(intent.Organization, intent.Organization.Path("/payments"), intent.Key, intent.Body);
            if (replay?.Status != HttpStatusCode.Created) { world.Violation($"final: create {intent.Key} does not replay: {replay?.Status} {replay?.Body}"); continue; }
            if (intent.AcknowledgedBody is not null && replay.Body != intent.AcknowledgedBody)
                world.Violation($"final: create {intent.Key} replays a different answer:\n  first  {intent.AcknowledgedBody}\n  replay {replay.Body}");
            idsByKey[intent.Key] = (Guid)JsonNode.Parse(replay.Body)!["transactionId"]!;
        }
        // Every refund key too, answered or not, as a client that never got an answer retries: a refund recorded but cut off
        // before its pay-out is paid out by the replay, under the same refund id.
        foreach (var intent in world.Refunds.Values)
        {
            var replay = await ReplayAsync(intent.Organization, intent.Organization.Path($"/payments/{intent.TransactionId}/refunds"), intent.Key, intent.Body);
            if (intent.AcknowledgedBody is not null && (replay?.Status != HttpStatusCode.Created || replay.Body != intent.AcknowledgedBody))
                world.Violation($"final: refund {intent.Key} replays {replay?.Status}: {replay?.Body} (first: {intent.AcknowledgedBody})");
            else if (intent.AcknowledgedBody is null && replay?.Status is not (HttpStatusCode.Created or HttpStatusCode.UnprocessableEntity or HttpStatusCode.Conflict))
                world.Violation($"final: refund {intent.Key} (never answered) replays {replay?.Status}: {replay?.Body}");
            else if (intent.AcknowledgedBody is null && replay?.Status == HttpStatusCode.Created)
                intent.AcknowledgedAmount = (long)JsonNode.Parse(replay.Body)!["amountMinor"]!;
        }
        if (idsByKey.Values.Distinct().Count() != idsByKey.Count) world.Violation("final: two idempotency keys replay the same payment");

        foreach (var organization in world.Organizations)
        {
            var served = await ListAsync(organization);
            if (served is null) { world.Violation($"final: the payments of {organization.Id} cannot be listed"); continue; }
            var keyed = world.Creates.Values.Where(c => c.Organization == organization && idsByKey.ContainsKey(c.Key)).Select(c => idsByKey[c.Key]).ToHashSet();
            foreach (var id in served.Keys.Where(id => !keyed.Contains(id))) world.Violation($"final: payment {id} belongs to no idempotency key (a second payment for a key?)");
            foreach (var id in keyed.Where(id => !served.ContainsKey(id))) world.Violation($"final: the payment {id} a key replays is not listed");
            var refunds = AcknowledgedRefunds();
            var answeredByPayment = world.Refunds.Values.GroupBy(r => r.TransactionId).ToDictionary(g => g.Key, g => g.Sum(r => r.AcknowledgedAmount));
            foreach (var payment in served.Values)
            {
                var id = (Guid)payment["transactionId"]!;
                CheckPayment(payment, refunds.GetValueOrDefault(id), "final");
                var refunded = (long)payment["refundedAmountMinor"]!;
                var answered = answeredByPayment.GetValueOrDefault(id);
                if (refunded != answered) world.Violation($"final: payment {id} shows {refunded} refunded, its answered refunds add up to {answered}");
                if (ledger.RefundedFor(id) != refunded) world.Violation($"final: payment {id}: the processor refunded {ledger.RefundedFor(id)}, the store records {refunded}");
            }
            var charges = ledger.ChargesFor(organization.Id);
            if (charges != keyed.Count) world.Violation($"final: organization {organization.Id}: the processor made {charges} charges for {keyed.Count} keys");
            await CheckCampaignAsync(organization, served.Values);
        }
    }

    private void CheckPayment(JsonNode payment, long acknowledgedRefunds, string when)
    {
        var id = (Guid)payment["transactionId"]!;
        var (amount, refunded) = ((long)payment["amountMinor"]!, (long)payment["refundedAmountMinor"]!);
        if (refunded > amount) world.Violation($"{when}: payment {id} refunded {refunded} of {amount}");
        if (refunded < acknowledgedRefunds) world.Violation($"{when}: payment {id} shows {refunded} refunded, {acknowledgedRefunds} was acknowledged");
    }

    private async Task CheckCampaignAsync(SimOrganization organization, IEnumerable<JsonNode> payments)
    {
        var counted = payments.Where(p => (string)p["status"]! is "succeeded" or "partially_refunded").ToList();
        var answer = await RetryAsync(() => api.SendAsync(random, HttpMethod.Get, organization.Path($"/campaigns/{organization.CampaignId}"), organization.ApiKey, null, null, TimeSpan.FromSeconds(10)));
        if (answer?.Status != HttpStatusCode.OK) { world.Violation($"final: campaign of {organization.Id} cannot be read: {answer?.Body}"); return; }
        var campaign = JsonNode.Parse(answer.Body)!;
        var raised = counted.Sum(p => (long)p["amountMinor"]! - (long)p["refundedAmountMinor"]!);
        if ((long)campaign["raisedAmountMinor"]! != raised || (long)campaign["donationCount"]! != counted.Count)
            world.Violation($"final: campaign {organization.CampaignId} shows {campaign["raisedAmountMinor"]} from {campaign["donationCount"]}, its payments add up to {raised} from {counted.Count}");
    }

    /// <summary>Every payment of the organization, by id; a payment listed twice is a violation. Null if the API would not answer.</summary>
    public async Task<Dictionary<Guid, JsonNode>?> ListAsync(SimOrganization organization)
    {
        var served = new Dictionary<Guid, JsonNode>();
        string? cursor = null;
        do
        {
            var path = organization.Path("/payments?limit=500" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            var answer = await RetryAsync(() => api.SendAsync(random, HttpMethod.Get, path, organization.ApiKey, null, null, TimeSpan.FromSeconds(10)));
            if (answer?.Status != HttpStatusCode.OK) return null;
            var page = JsonNode.Parse(answer.Body)!;
            foreach (var item in page["items"]!.AsArray())
                if (!served.TryAdd((Guid)item!["transactionId"]!, item)) world.Violation($"payment {item["transactionId"]} is listed twice");
            cursor = (string?)page["nextCursor"];
        }
        while (cursor is not null);
        return served;
    }

    /// <summary>
    /// Before any refund key is replayed: payments whose recorded refunds the processor has not paid in full (a refund
    /// recorded, then cut off before its pay-out, whose client gave up: the pay-out sweeper must have paid it).
    /// </summary>
    public async Task<IReadOnlyList<string>> UnpaidRefundsAsync(ProLifeProsper.Domain.Payments.SandboxLedger ledger)
    {
        var unpaid = new List<string>();
        foreach (var organization in world.Organizations)
        {
            if (await ListAsync(organization) is not { } served) { unpaid.Add($"the payments of {organization.Id} cannot be listed"); continue; }
            foreach (var payment in served.Values)
            {
                var id = (Guid)payment["transactionId"]!;
                var (recorded, paid) = ((long)payment["refundedAmountMinor"]!, ledger.RefundedFor(id));
                if (paid != recorded) unpaid.Add($"payment {id}: {recorded} refunded in the store, {paid} paid by the processor");
            }
        }
        return unpaid;
    }

    public async Task<int> CountPendingAsync() =>
        (await Task.WhenAll(world.Organizations.Select(ListAsync))).Sum(s => s?.Values.Count(p => (string)p["status"]! == "pending") ?? 0);

    private async Task<JsonNode?> GetAsync(SimOrganization organization, Guid id)
    {
        await Task.Delay(1_000);
        var answer = await RetryAsync(() => api.SendAsync(random, HttpMethod.Get, organization.Path($"/payments/{id}"), organization.ApiKey, null, null, TimeSpan.FromSeconds(10)));
        return answer?.Status == HttpStatusCode.OK ? JsonNode.Parse(answer.Body) : null;
    }

    private Task<Attempt?> ReplayAsync(SimOrganization organization, string path, string key, object body) =>
        RetryAsync(() => api.SendAsync(random, HttpMethod.Post, path, organization.ApiKey, body, key, TimeSpan.FromSeconds(30)), untilFinal: true);

    // Answers that say "not now" (503, a key still in flight, a concurrent change, no answer) are asked again.
    private static async Task<Attempt?> RetryAsync(Func<Task<Attempt>> send, bool untilFinal = false)
    {
        Attempt? last = null;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            last = await send();
            var notNow = !last.Answered || last.Status is HttpStatusCode.ServiceUnavailable || (untilFinal && last.Status is HttpStatusCode.Conflict
                && (last.Body.Contains("idempotency-key-in-flight") || last.Body.Contains("concurrent-update")));
            if (!notNow) return last;
            await Task.Delay(250);
        }
        return last;
    }
}

/// <summary>The processor's books as the final check reads them: read once, on first use (after the replays), per payment and organization.</summary>
public sealed class SandboxLedgerView(ProLifeProsper.Domain.Payments.SandboxLedger ledger)
{
    private readonly Lazy<Dictionary<Guid, long>> _refunded = new(() => ledger.Refunds.GroupBy(r => r.TransactionId).ToDictionary(g => g.Key, g => g.Sum(r => r.AmountMinor)));
    private readonly Lazy<Dictionary<Guid, int>> _charges = new(() => ledger.Charges.GroupBy(c => c.OrganizationId).ToDictionary(g => g.Key, g => g.Count()));

    public long RefundedFor(Guid transactionId) => _refunded.Value.GetValueOrDefault(transactionId);

    public int ChargesFor(Guid organizationId) => _charges.Value.GetValueOrDefault(organizationId);
}
