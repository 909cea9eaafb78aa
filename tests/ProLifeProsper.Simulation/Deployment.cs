using ProLifeProsper.Domain.Payments;
using ProLifeProsper.LocalInfrastructure;
using ProLifeProsper.Testing.Faults;

namespace ProLifeProsper.Simulation;

/// <summary>
/// The simulated deployment: a PostgreSQL server of its own (crashed and restarted by the fault injector), tables of their own on dynalite behind
/// the hostile profile, one processor ledger, and <see cref="SimulationOptions.Instances"/> API instances that can be
/// restarted while clients are using them.
/// </summary>
public sealed class Deployment : IAsyncDisposable
{
    private readonly DynaliteServer _dynalite;
    private readonly SimulatedApi?[] _instances;
    private readonly Uri[] _addresses;
    private readonly string _dynamoUrl;
    private readonly string _tablePrefix;

    private Deployment(int instances, PostgresServer postgres, DynaliteServer dynalite, HostileDynamoDb hostile)
    {
        Postgres = postgres;
        _dynalite = dynalite;
        _instances = new SimulatedApi?[instances];
        _addresses = new Uri[instances];
        ConnectionString = postgres.ConnectionStringFor(PostgresServer.NewDatabaseName("sim"));
        _dynamoUrl = dynalite.ServiceUrl;
        _tablePrefix = DynaliteServer.NewTablePrefix("sim");
        Hostile = hostile;
    }

    public string ConnectionString { get; }

    /// <summary>The deployment's own PostgreSQL server, which the fault injector crashes and restarts.</summary>
    public PostgresServer Postgres { get; }

    public HostileDynamoDb Hostile { get; }

    public SandboxLedger Ledger { get; } = new();

    public FlakyProcessor Processor { get; private set; } = null!;

    public int InstanceCount => _instances.Length;

    public static async Task<Deployment> StartAsync(SimulationOptions options)
    {
        var postgres = await PostgresServer.StartDedicatedAsync();
        // A DynamoDB of its own: dynalite serves one request at a time, and the simulation keeps it busy.
        var dynalite = await DynaliteServer.StartDedicatedAsync();
        // Moderate DynamoDB hostility: every fault kind, often enough that every minute sees many of each.
        var hostile = new HostileDynamoDb(new HostileDynamoDbProfile
        {
            Seed = options.Seed,
            Throttle = 0.03,
            FailBeforeSend = 0.02,
            AppliedThenServerError = 0.03,
            AppliedThenReset = 0.03,
            TinyPage = 0.3,
            MaxIndexLag = TimeSpan.FromMilliseconds(100),
        });
        var deployment = new Deployment(options.Instances, postgres, dynalite, hostile);
        deployment.Processor = new FlakyProcessor(deployment.Ledger, options.Seed);
        for (var i = 0; i < options.Instances; i++) await deployment.StartInstanceAsync(i);
        return deployment;
    }

    /// <summary>The address of an instance that is up, chosen at random (one being restarted may refuse the connection: clients retry).</summary>
    public Uri Pick(Random random) => _addresses[random.Next(_addresses.Length)];

    /// <summary>Stops instance <paramref name="index"/> (its in-flight requests are cut off) and starts a fresh one in its place.</summary>
    public async Task RestartAsync(int index)
    {
        var old = _instances[index];
        _instances[index] = null;
        if (old is not null) await old.DisposeAsync();
        await StartInstanceAsync(index);
    }

    private async Task StartInstanceAsync(int index)
    {
        var api = await SimulatedApi.StartAsync(ConnectionString, _dynamoUrl, _tablePrefix, Hostile, Ledger, Processor);
        using var probe = api.CreateClient();
        _addresses[index] = probe.BaseAddress!;
        _instances[index] = api;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var api in _instances) if (api is not null) await api.DisposeAsync();
        Hostile.Dispose();
        await _dynalite.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}
