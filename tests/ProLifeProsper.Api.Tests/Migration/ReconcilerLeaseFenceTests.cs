using Microsoft.Extensions.DependencyInjection;
using ProLifeProsper.Api.Infrastructure.Leases;
using ProLifeProsper.Api.StoreMigration;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Api.Tests.Migration;

/// <summary>
/// A reconciler step decided before a pause, in which another instance took the reconciler's lease over, must not run when
/// the instance wakes: the lease is checked under the routing lock every step takes.
/// </summary>
public sealed class ReconcilerLeaseFenceTests
{
    [Fact]
    public async Task A_reconciler_step_of_an_instance_that_lost_its_lease_is_refused_under_the_lock()
    {
        var dynalite = await DynaliteServer.GetAsync();
        await using var factory = await MigrationTests.StartAsync(dynalite.ServiceUrl); // AutoMigrate off: the test takes the steps
        var coordinator = factory.Services.GetRequiredService<MigrationCoordinator>();
        using var migration = new MigrationClient(factory);

        // Another instance holds the lease (this one paused past its own).
        await using var rival = await MigrationTests.StartAsync(dynalite.ServiceUrl, connectionString: factory.ConnectionString, prefix: factory.TablePrefix);
        Assert.True(await rival.Services.GetRequiredService<WorkerLeases>().TryAcquireAsync(MigrationReconciler.Lease, TimeSpan.FromMinutes(1), default));

        var refused = await Assert.ThrowsAsync<DomainException>(() => coordinator.StartAsync(MigrationReconciler.By, default));
        Assert.Contains("no longer holds the reconciler's lease", refused.Message);
        Assert.Equal("postgres", await migration.PhaseAsync());

        // Once the lease is this instance's again, the same step goes through; an operator's step never needs it.
        await rival.Services.GetRequiredService<WorkerLeases>().ReleaseAsync(MigrationReconciler.Lease, default);
        Assert.True(await factory.Services.GetRequiredService<WorkerLeases>().TryAcquireAsync(MigrationReconciler.Lease, TimeSpan.FromMinutes(1), default));
        await coordinator.StartAsync(MigrationReconciler.By, default);
        Assert.Equal("dual-write", await migration.PhaseAsync());
        await migration.RollbackAsync(TimeSpan.FromSeconds(30)); // by the operator, while another could hold the lease
        Assert.Equal("postgres", await migration.PhaseAsync());
    }

    [Fact]
    public async Task A_step_keeps_its_lease_only_without_a_break_and_never_takes_it_back_from_a_rival_that_let_go()
    {
        var dynalite = await DynaliteServer.GetAsync();
        await using var factory = await MigrationTests.StartAsync(dynalite.ServiceUrl);
        await using var rival = await MigrationTests.StartAsync(dynalite.ServiceUrl, connectionString: factory.ConnectionString, prefix: factory.TablePrefix);
        var (mine, theirs) = (factory.Services.GetRequiredService<WorkerLeases>(), rival.Services.GetRequiredService<WorkerLeases>());
        const string Lease = "fence-test";

        Assert.True(await mine.TryAcquireAsync(Lease, TimeSpan.FromMinutes(1), default));
        Assert.True(await mine.TryRenewAsync(Lease, TimeSpan.FromMinutes(1), default));
        Assert.False(await theirs.TryAcquireAsync(Lease, TimeSpan.FromMinutes(1), default));

        // This instance pauses past its lease; the rival takes it over, acts, and lets go before this one wakes.
        await using (var dataSource = Npgsql.NpgsqlDataSource.Create(factory.ConnectionString))
        await using (var expire = dataSource.CreateCommand($"UPDATE worker_leases SET expires_at = now() - interval '1 second' WHERE name = '{Lease}'"))
            await expire.ExecuteNonQueryAsync();
        Assert.True(await theirs.TryAcquireAsync(Lease, TimeSpan.FromMinutes(1), default));
        await theirs.ReleaseAsync(Lease, default);

        // The step that woke up cannot renew (the lease is free, not its own): it stops, and only a fresh decision takes it.
        Assert.False(await mine.TryRenewAsync(Lease, TimeSpan.FromMinutes(1), default));
        Assert.True(await mine.TryAcquireAsync(Lease, TimeSpan.FromMinutes(1), default));
    }
}
