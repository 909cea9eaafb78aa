using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.Instrumentation;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Benchmarks;

/// <summary>
/// The payment store's operations per routing configuration, against real PostgreSQL and dynalite that the
/// benchmark starts (and stops) itself: <c>current</c> (PostgreSQL, routing-guarded writes), <c>dual-write</c>
/// (PostgreSQL write + its outbox row in the same transaction; the copy to DynamoDB happens in the background and
/// is not in the timing) and <c>highScale</c> (DynamoDB).
/// </summary>
[MemoryDiagnoser]
public class StoreBenchmarks
{
    private const int SeededPayments = 2_000;
    private readonly Guid _organization = Guid.CreateVersion7();
    private readonly List<Guid> _ids = [];
    private IPaymentTransactionStore _store = null!;
    private Func<PaymentTransaction, IdempotencyRecord, Task> _create = null!;
    private NpgsqlDataSource? _dataSource;
    private int _next;

    [Params("current", "dual-write", "highScale")]
    public string Configuration { get; set; } = "current";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        if (Configuration == "highScale")
        {
            var dynalite = await DynaliteServer.GetAsync();
            var options = Options.Create(new DynamoDbOptions { TablePrefix = DynaliteServer.NewTablePrefix("bench") });
            var metrics = new StoreMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>(), TimeProvider.System);
            var client = dynalite.CreateClient();
            await new DynamoDbTableInitializer(client, options, NullLogger<DynamoDbTableInitializer>.Instance).EnsureTablesAsync(default);
            var dynamo = new DynamoDbPaymentTransactionStore(client, new DynamoDbCaller(metrics, options), options);
            (_store, _create) = (dynamo, (p, r) => dynamo.CreateAsync(p, r, default));
        }
        else
        {
            var server = await PostgresServer.GetAsync();
            _dataSource = NpgsqlDataSource.Create(server.ConnectionStringFor(PostgresServer.NewDatabaseName("bench")));
            await ProLifeProsperDbContext.MigrateAsync(_dataSource);
            await using (var state = _dataSource.CreateCommand("INSERT INTO routing_state (id, phase, version, changed_at) VALUES (1, 'postgres', 1, now())"))
                await state.ExecuteNonQueryAsync();
            var postgres = new PostgreSqlPaymentTransactionStore(_dataSource);
            var guard = new PostgreSqlWriteGuard(1, Configuration == "dual-write" ? DynamoDbPaymentTransactionStore.StoreName : null);
            (_store, _create) = (postgres, (p, r) => postgres.CreateAsync(p, r, guard, default));
        }

        var start = DateTimeOffset.UtcNow.AddHours(-20);
        for (var i = 0; i < SeededPayments; i++)
        {
            var payment = NewPayment(start.AddSeconds(i * 30), i % 10 == 0 ? PaymentStatus.Pending : PaymentStatus.Succeeded);
            await _create(payment, Record(payment));
            _ids.Add(payment.TransactionId);
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (_dataSource is not null) await _dataSource.DisposeAsync();
    }

    [Benchmark]
    public Task CreatePayment()
    {
        var payment = NewPayment(DateTimeOffset.UtcNow, PaymentStatus.Succeeded);
        return _create(payment, Record(payment));
    }

    [Benchmark]
    public Task<PaymentTransaction?> GetById() => _store.GetAsync(_organization, _ids[Interlocked.Increment(ref _next) % _ids.Count], default);

    [Benchmark]
    public Task<Page<PaymentTransaction>> ListPage() =>
        _store.ListAsync(new PaymentListQuery(_organization, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, null, PaymentListQuery.DefaultLimit, null), default);

    [Benchmark]
    public Task<IReadOnlyList<PaymentTransaction>> PendingQuery() => _store.GetPendingAsync(DateTimeOffset.UtcNow, null, 100, default);

    [Benchmark]
    public Task<IReadOnlyList<HourlyPaymentTotal>> HourlyAnalytics24h() =>
        _store.GetHourlyTotalsAsync(_organization, DateTimeOffset.UtcNow.AddHours(-24), DateTimeOffset.UtcNow, default);

    private PaymentTransaction NewPayment(DateTimeOffset at, PaymentStatus status)
    {
        var createdAt = UtcClock.TruncateToMilliseconds(at);
        return new PaymentTransaction
        {
            TransactionId = Guid.CreateVersion7(createdAt), OrganizationId = _organization, CampaignId = Guid.CreateVersion7(), DonorId = Guid.CreateVersion7(),
            AmountMinor = 2_500, Currency = "USD", Status = status,
            PaymentMethodType = status == PaymentStatus.Pending ? PaymentMethodType.BankTransfer : PaymentMethodType.Card,
            PaymentMethodToken = status == PaymentStatus.Pending ? "tok_bankTransfer" : "tok_visa",
            IdempotencyKey = Guid.NewGuid().ToString("D"), CreatedAt = createdAt, UpdatedAt = createdAt,
        };
    }

    private static IdempotencyRecord Record(PaymentTransaction p) =>
        new(p.OrganizationId, p.IdempotencyKey, "fp", p.TransactionId, PaymentSnapshotJson.Serialize(p), p.CreatedAt);
}
