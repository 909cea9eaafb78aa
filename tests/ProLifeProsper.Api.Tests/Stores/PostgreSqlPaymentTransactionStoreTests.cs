using Microsoft.EntityFrameworkCore;
using Npgsql;
using ProLifeProsper.Api.Infrastructure;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.Testing;

namespace ProLifeProsper.Api.Tests.Stores;

/// <summary>A migrated database of its own on the real test PostgreSQL server.</summary>
public sealed class PostgreSqlStoreFixture : IAsyncLifetime
{
    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        DataSource = NpgsqlDataSource.Create(server.ConnectionStringFor(PostgresServer.NewDatabaseName("store")));
        await using var db = new ProLifeProsperDbContext(new DbContextOptionsBuilder<ProLifeProsperDbContext>()
            .UseNpgsql(DataSource).UseSnakeCaseNamingConvention().Options);
        await db.Database.MigrateAsync();
    }

    public async Task DisposeAsync() => await DataSource.DisposeAsync();
}

public sealed class PostgreSqlPaymentTransactionStoreTests(PostgreSqlStoreFixture fixture)
    : PaymentTransactionStoreContract, IClassFixture<PostgreSqlStoreFixture>
{
    protected override IPaymentTransactionStore Store { get; } = new PostgreSqlPaymentTransactionStore(fixture.DataSource);
}

/// <summary>The same contract with group commit: creates batched into multi-row statements.</summary>
public sealed class PostgreSqlGroupCommitPaymentTransactionStoreTests(PostgreSqlStoreFixture fixture)
    : PaymentTransactionStoreContract, IClassFixture<PostgreSqlStoreFixture>, IAsyncLifetime
{
    private readonly PostgreSqlCreateBatcher _batcher = new(fixture.DataSource);

    protected override IPaymentTransactionStore Store => new PostgreSqlPaymentTransactionStore(fixture.DataSource, _batcher);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _batcher.DisposeAsync();
}
