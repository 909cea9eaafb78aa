using System.Net;
using System.Text.Json.Nodes;

namespace ProLifeProsper.Simulation;

/// <summary>
/// A donor-side client: creates card and bank-transfer payments, refunds (full, partial, two at once on one payment),
/// reads; every write carries an Idempotency-Key and is retried with it after an error or a time-out (some attempts give
/// up after a few milliseconds, cutting the request off), as a well-behaved integration would.
/// </summary>
public sealed class Donor(World world, ApiCalls api, Random random)
{
    private const int MaxAttempts = 8;

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var organization = world.Organizations[random.Next(world.Organizations.Count)];
            var roll = random.Next(100);
            if (roll < 55) await CreateAsync(organization);
            else if (roll < 90) await RefundAsync(organization);
            else await ReadAsync(organization);
            try { await Task.Delay(random.Next(20, 100), stop); }
            catch (OperationCanceledException) { }
        }
    }

    private async Task CreateAsync(SimOrganization organization)
    {
        var kind = random.Next(100);
        var (type, token) = kind < 80 ? ("card", "tok_visa") : kind < 92 ? ("bank_transfer", "tok_bankTransfer") : ("card", "tok_chargeDeclined");
        var amount = (long)random.Next(100, 10_000);
        var intent = new CreateIntent(organization, $"create-{Guid.NewGuid():N}",
            new { campaignId = organization.CampaignId, donorId = organization.DonorId, amountMinor = amount, currency = "USD", paymentMethod = new { type, token } }, amount);
        world.Creates[intent.Key] = intent;
        world.Count("creates.sent");
        var answer = await SendAsync(organization, organization.Path("/payments"), intent.Key, intent.Body, final: _ => false);
        if (answer?.Status != HttpStatusCode.Created) return;
        var payment = JsonNode.Parse(answer.Body)!;
        intent.AcknowledgedBody = answer.Body;
        intent.AcknowledgedId = (Guid)payment["transactionId"]!;
        world.Count("creates.acknowledged");
        if ((long)payment["amountMinor"]! != amount) world.Violation($"create {intent.Key}: acknowledged amount {payment["amountMinor"]} for {amount}");
        if ((string)payment["status"]! == "succeeded") world.Refundable[intent.AcknowledgedId.Value] = intent;
    }

    private async Task RefundAsync(SimOrganization organization)
    {
        var candidates = world.Refundable.Values.Where(c => c.Organization == organization).ToList();
        if (candidates.Count == 0) return;
        var target = candidates[random.Next(candidates.Count)];
        var together = random.Next(100) < 20 ? 2 : 1; // two refunds racing for one balance
        await Task.WhenAll(Enumerable.Range(0, together).Select(_ =>
        {
            long? amount = random.Next(100) < 30 ? null : 1 + random.Next((int)Math.Max(1, target.AmountMinor * 2 / 3));
            var intent = new RefundIntent(organization, $"refund-{Guid.NewGuid():N}", target.AcknowledgedId!.Value, amount);
            world.Refunds[intent.Key] = intent;
            world.Count("refunds.sent");
            return RefundOnceAsync(intent, new Random(random.Next()));
        }));
    }

    private async Task RefundOnceAsync(RefundIntent intent, Random dice)
    {
        var answer = await SendAsync(intent.Organization, intent.Organization.Path($"/payments/{intent.TransactionId}/refunds"), intent.Key, intent.Body,
            final: a => a.Status is HttpStatusCode.UnprocessableEntity || (a.Status is HttpStatusCode.Conflict && a.Body.Contains("invalid-payment-transition")), dice);
        if (answer?.Status != HttpStatusCode.Created) return;
        var receipt = JsonNode.Parse(answer.Body)!;
        intent.AcknowledgedBody = answer.Body;
        intent.AcknowledgedAmount = (long)receipt["amountMinor"]!;
        world.Count("refunds.acknowledged");
        var payment = receipt["payment"]!;
        if ((long)payment["refundedAmountMinor"]! > (long)payment["amountMinor"]!) world.Violation($"refund {intent.Key}: refunded more than the payment: {answer.Body}");
        if ((string)payment["status"]! == "refunded") world.Refundable.TryRemove(intent.TransactionId, out _);
    }

    private async Task ReadAsync(SimOrganization organization)
    {
        world.Count("reads.sent");
        var path = random.Next(2) == 0 || world.Refundable.IsEmpty
            ? organization.Path($"/payments?limit={1 + random.Next(50)}")
            : organization.Path($"/payments/{world.Refundable.Keys.ElementAtOrDefault(random.Next(world.Refundable.Count))}");
        var answer = await api.SendAsync(random, HttpMethod.Get, path, organization.ApiKey, null, null, TimeSpan.FromSeconds(5));
        if (answer.Status == HttpStatusCode.InternalServerError) world.Violation($"GET {path}: 500 {answer.Body}");
    }

    /// <summary>Sends until a 201 or a final refusal, retrying with the same key; null when it gave up unanswered (resolved at the end).</summary>
    private async Task<Attempt?> SendAsync(SimOrganization organization, string path, string key, object body, Func<Attempt, bool> final, Random? dice = null)
    {
        dice ??= random;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var timeout = dice.Next(100) < 15 ? TimeSpan.FromMilliseconds(dice.Next(20, 200)) : TimeSpan.FromSeconds(dice.Next(2, 6));
            var answer = await api.SendAsync(dice, HttpMethod.Post, path, organization.ApiKey, body, key, timeout);
            world.Count(answer.Answered ? $"status.{(int)answer.Status!}" : "status.none");
            if (attempt > 1) world.Count("retries");
            if (answer.Status == HttpStatusCode.Created) return answer;
            if (answer.Status == HttpStatusCode.InternalServerError) world.Violation($"POST {path} ({key}): 500 {answer.Body}");
            else if (answer.Status is HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.Unauthorized
                     || (answer.Status == HttpStatusCode.UnprocessableEntity && !final(answer)))
                world.Violation($"POST {path} ({key}): {(int)answer.Status} for a valid request: {answer.Body}");
            if (answer.Answered && final(answer)) return answer;
            if (answer.Status == HttpStatusCode.ServiceUnavailable && dice.Next(100) < 10)
            {
                // Some integrations do not retry a 503: whatever was recorded must still come right without them.
                world.Count("gave-up");
                world.Count("gave-up.after-503");
                return null;
            }
            await Task.Delay(dice.Next(20, 200));
        }
        world.Count("gave-up");
        return null;
    }
}
