using System.Collections.Concurrent;

namespace ProLifeProsper.Simulation;

/// <summary>One organization of the simulation, with its key, a campaign and a donor.</summary>
public sealed record SimOrganization(Guid Id, string ApiKey, Guid CampaignId, Guid DonorId)
{
    public string Path(string relative) => $"/api/organizations/{Id}{relative}";
}

/// <summary>A create the clients sent: its key and body, and the first 201 body if one came back.</summary>
public sealed class CreateIntent(SimOrganization organization, string key, object body, long amountMinor)
{
    public SimOrganization Organization { get; } = organization;
    public string Key { get; } = key;
    public object Body { get; } = body;
    public long AmountMinor { get; } = amountMinor;
    public string? AcknowledgedBody { get; set; }
    public Guid? AcknowledgedId { get; set; }
}

/// <summary>A refund the clients sent, and the first 201 body if one came back.</summary>
public sealed class RefundIntent(SimOrganization organization, string key, Guid transactionId, long? amountMinor)
{
    public SimOrganization Organization { get; } = organization;
    public string Key { get; } = key;
    public Guid TransactionId { get; } = transactionId;
    public long? AmountMinor { get; } = amountMinor;
    public object Body => AmountMinor is { } amount ? new { amountMinor = amount } : new { };
    public string? AcknowledgedBody { get; set; }
    public long AcknowledgedAmount { get; set; }
}

/// <summary>What the clients were told, what went wrong, and what the run covered: the simulation's books.</summary>
public sealed class World(IReadOnlyList<SimOrganization> organizations)
{
    public IReadOnlyList<SimOrganization> Organizations { get; } = organizations;
    public ConcurrentDictionary<string, CreateIntent> Creates { get; } = new();
    public ConcurrentDictionary<string, RefundIntent> Refunds { get; } = new();

    /// <summary>Acknowledged card payments that may be refunded (the clients' view).</summary>
    public ConcurrentDictionary<Guid, CreateIntent> Refundable { get; } = new();

    public ConcurrentQueue<string> Violations { get; } = new();
    public ConcurrentQueue<string> Events { get; } = new();
    public ConcurrentDictionary<string, long> Counters { get; } = new();

    public void Count(string what, long by = 1) => Counters.AddOrUpdate(what, by, (_, n) => n + by);

    public void Violation(string what)
    {
        Violations.Enqueue(what);
        Count("violations");
    }

    public void Event(string what) => Events.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {what}");
}
