using System.Diagnostics;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Api.StoreMigration;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.LocalInfrastructure;
using ProLifeProsper.Testing.Faults;

namespace ProLifeProsper.Api.Tests.Migration;

/// <summary>
/// The outbox drain's batched copy of new payments to DynamoDB (unconditional puts, 25 to a request) under the faults
/// that could make an unconditional put lose money: a refund that lands while the put is in flight, and a put whose
/// answer is lost after DynamoDB applied it. The drain runs here with a DynamoDB client whose BatchWriteItem the test
/// scripts; the rows are not due for the API's own drainer, so only the test applies them.
/// </summary>
public sealed class OutboxBatchCopyTests
{
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_payment_refunded_while_its_copy_is_being_put_ends_at_its_refunded_version_in_DynamoDB()
    {
        await using var setup = await SetupAsync();
        var payment = await setup.CreateInPostgresAsync("refunded-meanwhile");
        var refunded = payment.Refund(400, DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        var appDynamo = setup.Factory.Services.GetRequiredService<DynamoDbPaymentTransactionStore>();
        setup.Handler.BeforeBatchWrite = async () =>
        {
            // Another instance refunds the payment in PostgreSQL and its drainer copies version 2 before this put of version 1 lands.
            await setup.Postgres.UpdateAsync(refunded, null, default);
            Assert.True(await appDynamo.CopyAsync(refunded, default));
        };

        Assert.Equal(0, await setup.DrainAsync());
        Assert.True(setup.Handler.BatchWrites == 1, await setup.LastErrorsAsync());
        // The put landed over version 2 (DynamoDB shows version 1 now); the row was kept, not counted done.
        Assert.True((await appDynamo.GetAsync(payment.OrganizationId, payment.TransactionId, default))!.Version == 1, await setup.LastErrorsAsync());
        Assert.Equal(1L, await setup.DepthAsync());

        Assert.Equal(1, await setup.DrainAsync());
        var copied = await appDynamo.GetAsync(payment.OrganizationId, payment.TransactionId, default);
        Assert.Equal(refunded, copied);
        Assert.Equal(0L, await setup.DepthAsync());
    }

    [Fact]
    public async Task A_batch_copy_whose_answer_is_lost_keeps_its_rows_leased_until_its_put_can_no_longer_land_then_completes_every_one()
    {
        await using var setup = await SetupAsync();
        var payments = new List<PaymentTransaction>();
        for (var i = 0; i < 30; i++) payments.Add(await setup.CreateInPostgresAsync($"lost-answer-{i}"));
        setup.Handler.LoseAnswers = true; // each BatchWriteItem is applied, then its connection resets (retries included)

        var claimed = Stopwatch.StartNew();
        Assert.Equal(0, await setup.DrainAsync());
        Assert.Equal(30L, await setup.DepthAsync());
        Assert.True(setup.Handler.BatchWrites >= 3);

        // The rows stay leased: no drain takes them while a put of theirs could still land.
        setup.Handler.LoseAnswers = false;
        var sent = setup.Handler.BatchWrites;
        Assert.Equal(0, await setup.DrainAsync());
        Assert.Equal(sent, setup.Handler.BatchWrites);

        var applied = 0;
        while (applied < 30)
        {
            Assert.True(claimed.Elapsed < TimeSpan.FromSeconds(60), await setup.LastErrorsAsync());
            var now = await setup.DrainAsync();
            // Every put left within WriteTimeout and may land up to WriteTimeout later (2 s to spare).
            if (now > 0) Assert.True(claimed.Elapsed >= WriteTimeout * 2 + TimeSpan.FromSeconds(2), $"the rows were taken again after {claimed.Elapsed}, before a put of theirs could no longer land");
            applied += now;
            if (now == 0) await Task.Delay(250);
        }
        Assert.Equal(0L, await setup.DepthAsync());
        Assert.Equal(sent, setup.Handler.BatchWrites); // never put unconditionally again: the retries were conditional, one row at a time
        var appDynamo = setup.Factory.Services.GetRequiredService<DynamoDbPaymentTransactionStore>();
        foreach (var payment in payments)
        {
            Assert.Equal(payment, await appDynamo.GetAsync(payment.OrganizationId, payment.TransactionId, default));
            Assert.Equal(payment.TransactionId, (await appDynamo.FindIdempotencyRecordAsync(payment.OrganizationId, payment.IdempotencyKey, default))!.ResourceId);
        }
        var (items, _) = await appDynamo.ScanPaymentsAsync(null, 1_000, default);
        Assert.Equal(30, items.Count(p => payments.Any(q => q.TransactionId == p.TransactionId)));
    }

    [Fact]
    public async Task A_new_migration_does_not_start_while_a_put_of_an_outbox_row_the_rollback_dropped_can_still_land()
    {
        await using var setup = await SetupAsync();
        await setup.CreateInPostgresAsync("dropped-by-rollback");
        setup.Handler.LoseAnswers = true;
        var claimed = Stopwatch.StartNew();
        Assert.Equal(0, await setup.DrainAsync()); // the put's outcome is unknown: the row stays leased
        setup.Handler.LoseAnswers = false;

        using var migration = new MigrationClient(setup.Factory);
        await migration.RollbackAsync(TimeSpan.FromSeconds(30)); // drops the row, and records when its put can no longer land
        Assert.Equal(0L, await setup.DepthAsync());
        var refused = await migration.PostAsync("start", System.Net.HttpStatusCode.Conflict);
        Assert.Contains("may still be on its way to DynamoDB", refused.ToJsonString());

        await migration.StartAgainAsync(TimeSpan.FromSeconds(60) - claimed.Elapsed);
        // The put left within WriteTimeout of the claim and lands within WriteTimeout of leaving (2 s to spare).
        Assert.True(claimed.Elapsed >= WriteTimeout * 2 + TimeSpan.FromSeconds(2), $"started after {claimed.Elapsed}");
    }

    [Fact]
    public async Task A_drain_cut_off_after_its_batch_put_failed_leaves_the_rows_leased_and_never_puts_them_again()
    {
        await using var setup = await SetupAsync();
        var payment = await setup.CreateInPostgresAsync("cut-off-after-put");
        var refunded = payment.Refund(400, DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        await setup.CreateInPostgresAsync("cut-off-after-put-2");
        using var shutdown = new CancellationTokenSource();
        setup.Handler.LoseAnswers = true;
        setup.Handler.BeforeBatchWrite = () =>
        {
            shutdown.Cancel(); // the host stops while the put is on its way
            return Task.CompletedTask;
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            setup.Outbox.DrainAsync(new OutboxApply(setup.Mirror.ApplyAsync, setup.Mirror.ApplyNewPaymentsAsync), "dynamodb", 200, shutdown.Token, ignoreBackoff: true));
        setup.Handler.LoseAnswers = false;
        var sent = setup.Handler.BatchWrites;
        Assert.Equal(1, sent);

        // The payment is refunded meanwhile; no drain may take its row while the lost put could still land over the copy.
        await setup.Postgres.UpdateAsync(refunded, null, default);
        Assert.Equal(0, await setup.DrainAsync());
        Assert.Equal(2L, await setup.DepthAsync());

        var waited = Stopwatch.StartNew();
        while (await setup.DepthAsync() > 0)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), await setup.LastErrorsAsync());
            await setup.DrainAsync();
            await Task.Delay(250);
        }
        Assert.Equal(sent, setup.Handler.BatchWrites);
        var appDynamo = setup.Factory.Services.GetRequiredService<DynamoDbPaymentTransactionStore>();
        Assert.Equal(refunded, await appDynamo.GetAsync(payment.OrganizationId, payment.TransactionId, default));
    }

    [Fact]
    public async Task A_drainer_killed_with_its_batch_put_in_flight_keeps_its_rows_from_other_drainers_until_the_put_can_no_longer_land()
    {
        await using var setup = await SetupAsync();
        var payment = await setup.CreateInPostgresAsync("killed-mid-put");
        var refunded = payment.Refund(400, DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        var appDynamo = setup.Factory.Services.GetRequiredService<DynamoDbPaymentTransactionStore>();

        // Drainer A, with connections of its own: its put of version 1 is held on its way to DynamoDB.
        var inFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var land = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        setup.Handler.BeforeBatchWrite = async () =>
        {
            inFlight.SetResult();
            await land.Task;
        };
        const string drainerA = "outbox-drainer-a";
        var aSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(setup.Factory.ConnectionString) { ApplicationName = drainerA }.ConnectionString);
        var a = new PaymentOutbox(aSource, setup.DynamoOptions, NullLogger<PaymentOutbox>.Instance);
        await using (var warm = aSource.CreateCommand("SELECT 1")) await warm.ExecuteScalarAsync();
        var aDrain = a.DrainAsync(new OutboxApply(setup.Mirror.ApplyAsync, setup.Mirror.ApplyNewPaymentsAsync), "dynamodb", 200, default, ignoreBackoff: true);
        await inFlight.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // A is killed: every connection it had is gone (a row lock it held would end here) and it never comes back.
        await using (var admin = NpgsqlDataSource.Create(setup.Factory.ConnectionString))
        await using (var kill = admin.CreateCommand($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{drainerA}'"))
            await kill.ExecuteNonQueryAsync();
        await aSource.DisposeAsync();

        // Meanwhile the payment is refunded and another instance's drainer copies version 2.
        await setup.Postgres.UpdateAsync(refunded, null, default);
        Assert.True(await appDynamo.CopyAsync(refunded, default));
        Assert.Equal(0, await setup.DrainAsync()); // A's row is leased: left alone, still queued
        Assert.Equal(1L, await setup.DepthAsync());

        // A's put lands late, within the bound, over version 2.
        land.SetResult();
        await Assert.ThrowsAnyAsync<Exception>(() => aDrain); // A cannot settle anything: it is dead
        Assert.Equal(1, (await appDynamo.GetAsync(payment.OrganizationId, payment.TransactionId, default))!.Version);

        // Once A's lease has run out, the row is taken again and DynamoDB comes back to the refunded version.
        var waited = Stopwatch.StartNew();
        while (await setup.DepthAsync() > 0)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), await setup.LastErrorsAsync());
            await setup.DrainAsync();
            await Task.Delay(250);
        }
        Assert.Equal(refunded, await appDynamo.GetAsync(payment.OrganizationId, payment.TransactionId, default));
    }

    private static async Task<Setup> SetupAsync()
    {
        var dynalite = await DynaliteServer.GetAsync();
        // The API's own drainer would take the rows the test retries: it polls rarely here, and no payment goes through the API.
        var factory = await MigrationTests.StartAsync(dynalite.ServiceUrl, settings: new Dictionary<string, string?> { ["Migration:OutboxPollInterval"] = "00:10:00" });
        using (var migration = new MigrationClient(factory))
        {
            await migration.PostAsync("start"); // creates the tables; the backfill of an empty database completes at once
            await migration.WaitForBackfillAsync(TimeSpan.FromSeconds(60));
        }
        var tenant = await TestTenant.CreateAsync(factory);
        var handler = new ScriptedBatchWrites { InnerHandler = new SocketsHttpHandler() };
        var client = new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"), new AmazonDynamoDBConfig
        {
            ServiceURL = dynalite.ServiceUrl, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0, HttpClientFactory = new HandlerHttpClientFactory(handler),
        });
        var dynamoOptions = Microsoft.Extensions.Options.Options.Create(new DynamoDbOptions
        {
            TablePrefix = factory.TablePrefix, WriteShards = 4, MaxRetries = 1, WriteTimeout = WriteTimeout,
        });
        var dynamo = new DynamoDbPaymentTransactionStore(client, new DynamoDbCaller(null, dynamoOptions), dynamoOptions);
        var postgres = factory.Services.GetRequiredService<PostgreSqlPaymentTransactionStore>();
        var mirror = new PaymentMirror(postgres, dynamo, Microsoft.Extensions.Options.Options.Create(new MigrationOptions()), dynamoOptions,
            factory.Services.GetRequiredService<MigrationMetrics>(), NullLogger<PaymentMirror>.Instance);
        // The test's drains lease rows for this write time-out (the API's own drainer uses the API's).
        var outboxSource = NpgsqlDataSource.Create(factory.ConnectionString);
        var outbox = new PaymentOutbox(outboxSource, dynamoOptions, NullLogger<PaymentOutbox>.Instance);
        // First connections and the SDK's first call before any claim: a claim's time to send (one write time-out) must go to sending.
        await using (var warm = outboxSource.CreateCommand("SELECT 1")) await warm.ExecuteScalarAsync();
        await client.DescribeTableAsync(dynamoOptions.Value.TransactionsTableName);
        return new Setup(factory, tenant, handler, client, dynamoOptions, postgres, mirror, outboxSource, outbox);
    }

    private sealed record Setup(MigrationApiFactory Factory, TestTenant Tenant, ScriptedBatchWrites Handler, AmazonDynamoDBClient Client,
        Microsoft.Extensions.Options.IOptions<DynamoDbOptions> DynamoOptions, PostgreSqlPaymentTransactionStore Postgres, PaymentMirror Mirror,
        NpgsqlDataSource OutboxSource, PaymentOutbox Outbox) : IAsyncDisposable
    {
        /// <summary>A payment created in PostgreSQL with its outbox row to DynamoDB, not due for a minute and a half (only the test drains it).</summary>
        public async Task<PaymentTransaction> CreateInPostgresAsync(string key)
        {
            var request = PaymentRequest.Create(Tenant.CampaignId, Tenant.DonorId, 700, "USD", "card", "tok_visa");
            var payment = PaymentTransaction.Create(Tenant.OrganizationId, request, GatewayOutcome.Succeeded, key, DateTimeOffset.UtcNow);
            var record = new IdempotencyRecord(Tenant.OrganizationId, key, request.Fingerprint(), payment.TransactionId, PaymentSnapshotJson.Serialize(payment), payment.CreatedAt);
            await Postgres.CreateAsync(payment, record, default);
            await using var dataSource = NpgsqlDataSource.Create(Factory.ConnectionString);
            await using var command = dataSource.CreateCommand(
                "INSERT INTO payment_outbox (target, organization_id, transaction_id, idempotency_key, expected_version, enqueued_at, attempts, next_attempt_at) " +
                "VALUES ('dynamodb', $1, $2, $3, 1, now(), 0, now() + interval '90 seconds')");
            command.Parameters.Add(new() { Value = payment.OrganizationId });
            command.Parameters.Add(new() { Value = payment.TransactionId });
            command.Parameters.Add(new() { Value = key });
            await command.ExecuteNonQueryAsync();
            return payment;
        }

        /// <summary>One drain of every row (backoff ignored), as the API's drainer runs it; the rows it completed.</summary>
        public Task<int> DrainAsync() =>
            Outbox.DrainAsync(new OutboxApply(Mirror.ApplyAsync, Mirror.ApplyNewPaymentsAsync), "dynamodb", 200, default, ignoreBackoff: true);

        public async Task<long> DepthAsync() => (await Outbox.DepthAsync(default))["dynamodb"];

        /// <summary>Why the rows still queued were retried (for failure messages).</summary>
        public async Task<string> LastErrorsAsync()
        {
            await using var dataSource = NpgsqlDataSource.Create(Factory.ConnectionString);
            await using var command = dataSource.CreateCommand("SELECT string_agg(DISTINCT coalesce(last_error, '-'), ' | ') FROM payment_outbox");
            return (await command.ExecuteScalarAsync())?.ToString() ?? "";
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            Handler.Dispose();
            await OutboxSource.DisposeAsync();
            await Factory.DisposeAsync();
        }
    }

    /// <summary>Lets BatchWriteItem requests through, running <see cref="BeforeBatchWrite"/> before the first, or losing their answers.</summary>
    private sealed class ScriptedBatchWrites : DelegatingHandler
    {
        private int _batchWrites;

        public Func<Task>? BeforeBatchWrite { get; set; }
        public bool LoseAnswers { get; set; }
        public int BatchWrites => _batchWrites;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var batchWrite = request.Headers.TryGetValues("X-Amz-Target", out var target) && target.Single().EndsWith(".BatchWriteItem", StringComparison.Ordinal);
            if (!batchWrite) return await base.SendAsync(request, cancellationToken);
            var n = Interlocked.Increment(ref _batchWrites);
            if (n == 1 && BeforeBatchWrite is { } before) await before();
            // Once sent, a request cannot be called back: it goes on whatever becomes of its caller.
            var response = await base.SendAsync(request, CancellationToken.None);
            if (!LoseAnswers) return response;
            response.Dispose();
            throw new HttpRequestException("The connection was reset after DynamoDB applied the batch (injected).");
        }
    }
}
