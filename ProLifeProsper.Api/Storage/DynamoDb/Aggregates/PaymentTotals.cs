using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Storage.DynamoDb.Aggregates;

/// <summary>
/// What analytics and campaign progress sum, over some set of payments: captured payments per UTC hour and currency, and
/// per campaign the net raised by payments not fully refunded. Exact integers (minor units); merged by addition, so the
/// totals of an hour, a day or a range are sums of the totals of their parts.
/// </summary>
public sealed partial class PaymentTotals
{
    /// <summary>The payment attributes a contribution is read from (a query projects only these).</summary>
    public static readonly IReadOnlyList<string> Attributes = ["campaignId", "amountMinor", "refundedAmountMinor", "currency", "status", "createdAt"];

    private readonly Dictionary<(DateTimeOffset Hour, string Currency), (long Count, long Amount, long Refunded)> _hourly = [];
    private readonly Dictionary<Guid, (long Raised, long Count)> _campaigns = [];

    public bool IsEmpty => _hourly.Count == 0 && _campaigns.Count == 0;

    /// <summary>How many captured payments these totals count (a kept hour's size, roughly).</summary>
    public long Payments => _hourly.Values.Sum(h => h.Count);

    /// <summary>Adds one payment item's contribution.</summary>
    public void Add(IReadOnlyDictionary<string, AttributeValue> item)
    {
        var status = PaymentStatusNames.Parse(item["status"].S);
        var amount = Number(item["amountMinor"]);
        var refunded = Number(item["refundedAmountMinor"]);
        if (status.IsCaptured())
        {
            var key = (PaymentItemKeys.FloorHour(PaymentItemMapper.ParseTime(item["createdAt"].S)), item["currency"].S);
            var (count, sum, refunds) = _hourly.GetValueOrDefault(key);
            _hourly[key] = (count + 1, Plus(sum, amount), Plus(refunds, refunded));
        }
        if (status is PaymentStatus.Succeeded or PaymentStatus.PartiallyRefunded)
        {
            var campaign = Guid.Parse(item["campaignId"].S);
            var (raised, count) = _campaigns.GetValueOrDefault(campaign);
            _campaigns[campaign] = (Plus(raised, amount - refunded), count + 1);
        }
    }

    /// <summary>Adds other totals (of payments not counted here yet).</summary>
    public void Add(PaymentTotals other)
    {
        foreach (var (key, (count, amount, refunded)) in other._hourly)
        {
            var (c, a, r) = _hourly.GetValueOrDefault(key);
            _hourly[key] = (c + count, Plus(a, amount), Plus(r, refunded));
        }
        foreach (var (campaign, (raised, count)) in other._campaigns)
        {
            var (r, c) = _campaigns.GetValueOrDefault(campaign);
            _campaigns[campaign] = (Plus(r, raised), c + count);
        }
    }

    /// <summary>The campaign totals alone: what a kept month holds (its hourly totals would be 744 entries per currency).</summary>
    public PaymentTotals CampaignsOnly()
    {
        var campaigns = new PaymentTotals();
        foreach (var (id, value) in _campaigns) campaigns._campaigns[id] = value;
        return campaigns;
    }

    /// <summary>Hourly totals for hours that start in [from, to), ordered by hour and currency.</summary>
    public IReadOnlyList<HourlyPaymentTotal> Hourly(DateTimeOffset from, DateTimeOffset to) => _hourly
        .Where(h => h.Key.Hour >= PaymentItemKeys.FloorHour(from) && h.Key.Hour < to)
        .Select(h => new HourlyPaymentTotal(h.Key.Hour, h.Key.Currency, h.Value.Count, h.Value.Amount, h.Value.Refunded))
        .OrderBy(t => t.Hour).ThenBy(t => t.Currency, StringComparer.Ordinal)
        .ToList();

    /// <summary>Every campaign's totals, as a snapshot that stays as it is (shared between requests).</summary>
    public System.Collections.Frozen.FrozenDictionary<Guid, CampaignTotals> AllCampaigns() =>
        System.Collections.Frozen.FrozenDictionary.ToFrozenDictionary(_campaigns, c => c.Key, c => new CampaignTotals(c.Value.Raised, c.Value.Count));

    // Stored compactly as JSON in one string attribute (one hour's or one day's totals: a few hundred bytes to a few KB).
    public string ToJson() => JsonSerializer.Serialize(new Stored(
        _hourly.Select(h => new StoredHour(PaymentItemKeys.Hour(h.Key.Hour), h.Key.Currency, h.Value.Count, h.Value.Amount, h.Value.Refunded)).ToList(),
        _campaigns.Select(c => new StoredCampaign(c.Key, c.Value.Raised, c.Value.Count)).ToList()), StoredContext.Default.Stored);

    public static PaymentTotals FromJson(string json)
    {
        var stored = JsonSerializer.Deserialize(json, StoredContext.Default.Stored) ?? throw new JsonException("empty totals");
        var totals = new PaymentTotals();
        foreach (var h in stored.H)
            totals._hourly[(DateTimeOffset.ParseExact(h.T, "yyyy-MM-dd'T'HH", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal), h.C)] = (h.N, h.A, h.R);
        foreach (var c in stored.C) totals._campaigns[c.Id] = (c.A, c.N);
        return totals;
    }

    // Money sums are held at a long's maximum rather than wrapping negative (9.2 × 10^18 minor units: some 92 million
    // payments of the largest amount), as PostgreSQL's are; every term is non-negative.
    private static long Plus(long a, long b) => long.CreateSaturating((Int128)a + b);

    private static long Number(AttributeValue value) => long.Parse(value.N, CultureInfo.InvariantCulture);

    internal sealed record Stored(List<StoredHour> H, List<StoredCampaign> C);

    internal sealed record StoredHour(string T, string C, long N, long A, long R);

    internal sealed record StoredCampaign(Guid Id, long A, long N);

    [JsonSerializable(typeof(Stored))]
    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
    internal sealed partial class StoredContext : JsonSerializerContext;
}
