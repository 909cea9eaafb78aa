using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.LocalInfrastructure;
using ProLifeProsper.Api.Storage.PostgreSql;

namespace ProLifeProsper.Api.Tests.Migration;

/// <summary>
/// The migration under the faults that used to lose or double money: DynamoDB losing its data, a rollback cut off
/// halfway, an instance that stops hearing about phase changes, a DynamoDB write cut off between its steps, a retry that
/// races a write still coming home, an interrupted backfill. Each test injects its fault; each failed before its fix.
/// </summary>
public sealed class MigrationFaultTests
{
    [Fact]
    public async Task An_instance_whose_DynamoDB_lost_its_data_refuses_payments_and_a_rollback_serves_every_payment_from_PostgreSQL()
    {
        string connectionString;
        TestTenant tenant;
        var acknowledged = new List<PaymentResponse>();
        await using (var first = await MigrationTests.StartAsync())
        {
            connectionString = first.ConnectionString;
            using var migration = new MigrationClient(first);
            tenant = await TestTenant.CreateAsync(first);
            for (var i = 0; i < 3; i++) acknowledged.Add(await tenant.PayAsync(1_000 + i));
            await migration.CutOverAsync();
            acknowledged.Add(Created(await tenant.PostPaymentAsync(tenant.PaymentBody(4_000), "made-on-dynamodb")));
        }

        // The API comes back to an empty DynamoDB (new tables), as a local DynamoDB kept in memory did after a restart.
        await using var restarted = await MigrationTests.StartAsync(connectionString: connectionString,
            settings: new Dictionary<string, string?> { ["DynamoDb:CreateTablesOnStartup"] = "true" });
        using var client = restarted.CreateClient(tenant.ApiKey);
        tenant = tenant with { Client = client };

        var list = await tenant.Client.GetAsync(tenant.Path("/payments"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, list.StatusCode);
        var problem = JsonNode.Parse(await list.Content.ReadAsStringAsync())!;
        Assert.Equal("https://prolifeprosper.org/problems/payments-store-lost", (string)problem["type"]!);
        Assert.Contains("rollback", (string)problem["detail"]!);
        var retried = await tenant.PostPaymentAsync(tenant.PaymentBody(4_000), "made-on-dynamodb");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, retried.StatusCode); // not a second payment
        var fresh = await tenant.PostPaymentAsync(tenant.PaymentBody(5_000), "while-refused");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, fresh.StatusCode);
        Assert.Empty(restarted.Gateway.Ledger.Charges); // and nobody was charged for a payment the store refused
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await restarted.CreateClient().GetAsync("/health")).StatusCode);

        using var migrationAfter = new MigrationClient(restarted);
        Assert.Equal("postgres", (string)(await migrationAfter.RollbackAsync(TimeSpan.FromSeconds(60)))["phase"]!);
        var served = (await tenant.ListPaymentsAsync()).Items.Select(p => p.TransactionId).ToHashSet();
        Assert.True(acknowledged.All(p => served.Contains(p.TransactionId)), "an acknowledged payment is missing after the rollback");
        var replay = await tenant.PostPaymentAsync(tenant.PaymentBody(4_000), "made-on-dynamodb");
        Assert.Equal(acknowledged[^1].TransactionId, Created(replay).TransactionId);
        Assert.True(replay.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(acknowledged.Count, served.Count);
    }

    [Fact]
    public async Task A_rollback_from_dynamo_only_cut_off_halfway_resumes_from_its_checkpoint_and_loses_nothing()
    {
        var prefix = DynaliteServer.NewTablePrefix("reverse");
        string connectionString;
        TestTenant tenant;
        var written = new List<PaymentResponse>();
        RefundResponse refund;
        await using (var first = await MigrationTests.StartAsync(prefix: prefix))
        {
            connectionString = first.ConnectionString;
            using var migration = new MigrationClient(first);
            tenant = await TestTenant.CreateAsync(first);
            await migration.SeedAsync([tenant], 1_500);
            await migration.CutOverAsync();
            await migration.PostAsync("finalize");
            for (var i = 0; i < 3; i++) written.Add(await tenant.PayAsync(2_000 + i));
            refund = await TestTenant.ReadAsync<RefundResponse>(await tenant.PostRefundAsync(written[0].TransactionId, 500, "after-finalize"), HttpStatusCode.Created);
        }

        string startedAt;
        await using (var slow = await MigrationTests.StartAsync(prefix: prefix, connectionString: connectionString, backfillPerSecond: 100))
        {
            using var migration = new MigrationClient(slow);
            Assert.Equal("dynamo-primary", (string)(await migration.PostAsync("rollback", HttpStatusCode.Accepted))["phase"]!);
            JsonNode progress;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            do
            {
                await Task.Delay(200);
                progress = (await migration.StatusAsync())["reverseCopy"]!;
                Assert.True(DateTime.UtcNow < deadline, $"the reverse copy did not start: {progress}");
            }
            while ((long)progress["recordsCopied"]! < 200);
            Assert.Null(progress["completedAt"]);
            startedAt = (string)progress["startedAt"]!;
            // A retried rollback while it runs is answered, not refused, and starts nothing over.
            await migration.PostAsync("rollback", HttpStatusCode.Accepted);
        } // cut off halfway

        await using var resumed = await MigrationTests.StartAsync(prefix: prefix, connectionString: connectionString);
        using var after = new MigrationClient(resumed);
        var atRestart = (await after.StatusAsync())["reverseCopy"]!;
        Assert.True((long)atRestart["recordsCopied"]! >= 200, $"the checkpoint was lost: {atRestart}");
        Assert.Equal("postgres", (string)(await after.RollbackAsync(TimeSpan.FromSeconds(90)))["phase"]!);
        Assert.Equal(startedAt, (string)(await after.StatusAsync())["reverseCopy"]!["startedAt"]!); // resumed, not restarted

        using var client = resumed.CreateClient(tenant.ApiKey);
        tenant = tenant with { Client = client };
        var served = new Dictionary<Guid, PaymentResponse>();
        string? cursor = null;
        do
        {
            var page = await tenant.ListPaymentsAsync("?limit=500" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            foreach (var p in page.Items) served.Add(p.TransactionId, p);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Equal(1_503, served.Count);
        Assert.All(written, p => Assert.True(served.ContainsKey(p.TransactionId), $"payment {p.TransactionId} made after finalize is missing"));
        Assert.Equal(500, served[written[0].TransactionId].RefundedAmountMinor);
        var replay = await tenant.PostRefundAsync(written[0].TransactionId, 500, "after-finalize");
        Assert.Equal(refund.RefundId, (await TestTenant.ReadAsync<RefundResponse>(replay, HttpStatusCode.Created)).RefundId);
    }

    [Fact]
    public async Task An_instance_that_stops_polling_the_phase_stops_writing_under_dynamo_only_before_the_reverse_copy_starts()
    {
        var prefix = DynaliteServer.NewTablePrefix("fence");
        await using var first = await MigrationTests.StartAsync(prefix: prefix);
        using var migration = new MigrationClient(first);
        var tenant = await TestTenant.CreateAsync(first);
        await tenant.PayAsync();
        await migration.CutOverAsync();
        await migration.PostAsync("finalize");

        // A second instance that never polls the routing phase (as if its polls kept failing): it decides by what it
        // read at start-up, dynamo-only, unless something makes it look again.
        await using var deaf = await MigrationTests.StartAsync(prefix: prefix, connectionString: first.ConnectionString,
            settings: new Dictionary<string, string?> { ["Migration:RoutingPollInterval"] = "01:00:00" });
        using var deafClient = deaf.CreateClient(tenant.ApiKey);
        var viaDeaf = tenant with { Client = deafClient };
        var acknowledged = new ConcurrentBag<Guid>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var response = await viaDeaf.PostPaymentAsync(viaDeaf.PaymentBody(300), Guid.NewGuid().ToString());
                if (response.StatusCode == HttpStatusCode.Created) acknowledged.Add(Created(response).TransactionId);
                await Task.Delay(20);
            }
        });

        await Task.Delay(500);
        Assert.Equal("postgres", (string)(await migration.RollbackAsync(TimeSpan.FromSeconds(60)))["phase"]!);
        await Task.Delay(500);
        await stop.CancelAsync();
        await writer;

        var served = (await tenant.ListPaymentsAsync("?limit=500")).Items.Select(p => p.TransactionId).ToHashSet();
        Assert.True(acknowledged.Count > 10, $"only {acknowledged.Count} writes went through the second instance");
        var missing = acknowledged.Where(id => !served.Contains(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {acknowledged.Count} payments acknowledged by the second instance are missing after the rollback");
    }

    [Fact]
    public async Task A_refund_cut_off_between_its_DynamoDB_steps_in_dynamo_primary_reaches_PostgreSQL()
    {
        await using var factory = await MigrationTests.StartAsync();
        using var migration = new MigrationClient(factory);
        var tenant = await TestTenant.CreateAsync(factory);
        var payment = await tenant.PayAsync(1_000);
        await migration.CutOverAsync();

        // The writer recorded its intent, wrote the refund's idempotency record to DynamoDB, and was cut off.
        var stored = await factory.Services.GetRequiredService<DynamoDbPaymentTransactionStore>().GetAsync(tenant.OrganizationId, payment.TransactionId, default);
        var refunded = stored!.Refund(300, DateTimeOffset.UtcNow);
        var receipt = new RefundReceipt(Guid.CreateVersion7(), 300, "USD", refunded.UpdatedAt, refunded);
        var record = new IdempotencyRecord(tenant.OrganizationId, "cut-off-refund",
            IdempotencyFingerprint.Of("payments.refund", payment.TransactionId, "300"), receipt.RefundId, PaymentSnapshotJson.Serialize(receipt), refunded.UpdatedAt);
        await InsertIntentAsync(factory.ConnectionString, tenant.OrganizationId, payment.TransactionId, record.Key, refunded.Version);
        using (var dynamo = (await DynaliteServer.GetAsync()).CreateClient())
        {
            var options = factory.Services.GetRequiredService<IOptions<DynamoDbOptions>>().Value;
            await CutOffDynamoWrite.WriteRecordOnlyAsync(dynamo, options.IdempotencyTableName, record, "Update", refunded);
        }

        // The outbox drainer finishes the write from its record and brings it home; a rollback then serves it.
        await WaitForOutboxAsync(migration, "postgresql");
        Assert.Equal("postgres", (string)(await migration.RollbackAsync(TimeSpan.FromSeconds(60)))["phase"]!);
        Assert.Equal(300, (await tenant.ListPaymentsAsync()).Items.Single().RefundedAmountMinor);
        var replay = await tenant.PostRefundAsync(payment.TransactionId, 300, "cut-off-refund");
        Assert.Equal(receipt.RefundId, (await TestTenant.ReadAsync<RefundResponse>(replay, HttpStatusCode.Created)).RefundId);
    }

    [Fact]
    public async Task After_a_rollback_a_retry_whose_DynamoDB_create_is_still_coming_home_waits_for_it_instead_of_creating_a_second_payment()
    {
        await using var factory = await MigrationTests.StartAsync(settings: new Dictionary<string, string?> { ["Migration:RollbackDrainTimeout"] = "00:00:01" });
        using var migration = new MigrationClient(factory);
        var tenant = await TestTenant.CreateAsync(factory);
        await migration.CutOverAsync();

        // A create on DynamoDB is in flight (its intent is recorded, its write not yet done) when the phase goes back.
        var request = PaymentRequest.Create(tenant.CampaignId, tenant.DonorId, 2_500, "USD", "card", "tok_visa");
        var slow = PaymentTransaction.Create(tenant.OrganizationId, request, GatewayOutcome.Succeeded, "slow-create", DateTimeOffset.UtcNow);
        var record = new IdempotencyRecord(tenant.OrganizationId, "slow-create", request.Fingerprint(), slow.TransactionId, PaymentSnapshotJson.Serialize(slow), slow.CreatedAt);
        await InsertIntentAsync(factory.ConnectionString, tenant.OrganizationId, slow.TransactionId, record.Key, 1);
        Assert.Equal("postgres", (string)(await migration.RollbackAsync(TimeSpan.FromSeconds(30)))["phase"]!);

        // The client timed out and retries on PostgreSQL: the key is not free yet.
        var retry = await tenant.PostPaymentAsync(tenant.PaymentBody(), "slow-create");
        Assert.Equal(HttpStatusCode.Conflict, retry.StatusCode);
        Assert.Contains("idempotency-key-in-flight", await retry.Content.ReadAsStringAsync());
        Assert.Empty((await tenant.ListPaymentsAsync()).Items);
        // Nor may a refund of another payment take the key (the create's record would be dropped on its way home, and a
        // retry of the create would meet a refund's key).
        var other = await tenant.PayAsync(900);
        var refund = await tenant.PostRefundAsync(other.TransactionId, 100, "slow-create");
        await ProblemAssert.ReadAsync(refund, HttpStatusCode.Conflict, "idempotency-key-in-flight");

        // The slow write lands in DynamoDB and its intent brings it home; the retry now replays it.
        await factory.Services.GetRequiredService<DynamoDbPaymentTransactionStore>().CreateAsync(slow, record, default);
        await WaitForOutboxAsync(migration, "postgresql");
        var replay = await tenant.PostPaymentAsync(tenant.PaymentBody(), "slow-create");
        Assert.Equal(slow.TransactionId, Created(replay).TransactionId);
        Assert.Equal([slow.TransactionId, other.TransactionId], (await tenant.ListPaymentsAsync()).Items.Select(p => p.TransactionId).Order());
        Assert.Equal(0, factory.Gateway.Ledger.RefundedFor(other.TransactionId));
    }

    [Fact]
    public async Task Migrating_again_after_a_rollback_a_retried_refund_key_from_the_first_migration_replays_instead_of_refunding_again()
    {
        await using var factory = await MigrationTests.StartAsync();
        using var migration = new MigrationClient(factory);
        var tenant = await TestTenant.CreateAsync(factory);
        var payment = await tenant.PayAsync(1_000);
        await migration.CutOverAsync();
        var first = await TestTenant.ReadAsync<RefundResponse>(await tenant.PostRefundAsync(payment.TransactionId, 300, "refund-in-first-migration"), HttpStatusCode.Created);
        Assert.Equal("postgres", (string)(await migration.RollbackAsync(TimeSpan.FromSeconds(60)))["phase"]!);
        Assert.Equal(HttpStatusCode.Created, (await tenant.PostRefundAsync(payment.TransactionId, 200, "refund-on-postgres")).StatusCode);

        await migration.CutOverAsync(); // the second migration copies the payment over DynamoDB's older copy

        var retry = await tenant.PostRefundAsync(payment.TransactionId, 300, "refund-in-first-migration");
        Assert.Equal(first.RefundId, (await TestTenant.ReadAsync<RefundResponse>(retry, HttpStatusCode.Created)).RefundId);
        Assert.Equal(500, (await tenant.ListPaymentsAsync()).Items.Single().RefundedAmountMinor);
        Assert.Equal(500, factory.Gateway.Ledger.RefundedFor(payment.TransactionId));
    }

    [Fact]
    public async Task An_interrupted_backfill_leaves_no_lock_behind_and_resumes_when_DynamoDB_returns()
    {
        await using var dynalite = await DynaliteServer.StartDedicatedAsync();
        await using var factory = await MigrationTests.StartAsync(dynalite.ServiceUrl, backfillPerSecond: 200);
        using var migration = new MigrationClient(factory);
        var tenant = await TestTenant.CreateAsync(factory);
        await migration.SeedAsync([tenant], 1_000);
        await migration.PostAsync("start");
        while ((long)(await migration.StatusAsync())["backfill"]!["copied"]! < 100) await Task.Delay(100);

        dynalite.Stop();
        await Task.Delay(TimeSpan.FromSeconds(3)); // every copy now fails: the backfill is interrupted (and retried) meanwhile
        // No session lock is left on a pooled connection (which would keep every instance from resuming it).
        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);
        Assert.Equal(0, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"));

        await dynalite.RestartAsync();
        await migration.WaitForBackfillAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(1_000, (long)(await migration.StatusAsync())["backfill"]!["copied"]!);
    }

    [Fact]
    public async Task A_verification_waits_for_shadow_writes_still_queued_instead_of_reporting_them_missing()
    {
        await using var factory = await MigrationTests.StartAsync();
        using var migration = new MigrationClient(factory);
        var tenant = await TestTenant.CreateAsync(factory);
        await migration.PostAsync("start");
        await migration.WaitForBackfillAsync(TimeSpan.FromSeconds(60));

        // Two dual-write creates whose copies to DynamoDB have not happened yet: one waits out a retry backoff longer than
        // the verification's catch-up (its earlier attempts met DynamoDB faults), the other is claimed by a drainer (another instance) that takes a few seconds.
        var backingOff = await InsertPaymentAsync(factory.ConnectionString, tenant, "backing-off", DateTimeOffset.UtcNow);
        await InsertOutboxRowAsync(factory.ConnectionString, "dynamodb", tenant.OrganizationId, backingOff.TransactionId, "backing-off", 1, TimeSpan.FromSeconds(90));
        var claimed = await InsertPaymentAsync(factory.ConnectionString, tenant, "claimed", DateTimeOffset.UtcNow);
        await using var otherDrainer = new NpgsqlConnection(factory.ConnectionString);
        await otherDrainer.OpenAsync();
        var claim = await otherDrainer.BeginTransactionAsync();
        var claimedRow = await InsertOutboxRowAsync(factory.ConnectionString, "dynamodb", tenant.OrganizationId, claimed.TransactionId, "claimed", 1, TimeSpan.FromSeconds(90));
        await using (var lockRow = new NpgsqlCommand($"SELECT id FROM payment_outbox WHERE id = {claimedRow} FOR UPDATE", otherDrainer, claim))
            await lockRow.ExecuteNonQueryAsync();
        var release = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(4));
            await claim.RollbackAsync(); // that drainer gave up (its attempt failed): the row is free again
        });

        // The shadow is behind, not wrong: verification brings it up to date before it judges.
        await migration.VerifyCleanAsync();
        await release;
        var dynamo = factory.Services.GetRequiredService<DynamoDbPaymentTransactionStore>();
        Assert.Equal(backingOff, await dynamo.GetAsync(tenant.OrganizationId, backingOff.TransactionId, default));
        Assert.Equal(claimed, await dynamo.GetAsync(tenant.OrganizationId, claimed.TransactionId, default));
        Assert.Equal(0, (long)(await migration.StatusAsync())["outboxDepth"]!["dynamodb"]!);
    }

    [Fact]
    public async Task A_queued_write_does_not_excuse_a_payment_on_which_DynamoDB_is_ahead()
    {
        await using var factory = await MigrationTests.StartAsync(settings: new Dictionary<string, string?> { ["Migration:VerifyCatchUpTimeout"] = "00:00:03" });
        using var migration = new MigrationClient(factory);
        var tenant = await TestTenant.CreateAsync(factory);
        var payment = await tenant.PayAsync(1_000);
        await migration.PostAsync("start");
        await migration.WaitForBackfillAsync(TimeSpan.FromSeconds(60));

        // DynamoDB holds a newer version than PostgreSQL (a copy cannot mend that: it is version-conditional), while a write
        // of the payment sits in the outbox, held by another instance's drainer for the whole verification.
        var dynamo = factory.Services.GetRequiredService<DynamoDbPaymentTransactionStore>();
        var stored = (await dynamo.GetAsync(tenant.OrganizationId, payment.TransactionId, default))!;
        Assert.True(await dynamo.CopyAsync(stored.Refund(400, DateTimeOffset.UtcNow), default));
        // (Not due for a while, so no drainer applies it before the test holds it.)
        var row = await InsertOutboxRowAsync(factory.ConnectionString, "dynamodb", tenant.OrganizationId, payment.TransactionId, "held", 1, TimeSpan.FromSeconds(90));
        await using var otherDrainer = new NpgsqlConnection(factory.ConnectionString);
        await otherDrainer.OpenAsync();
        await using var claim = await otherDrainer.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand($"SELECT id FROM payment_outbox WHERE id = {row} FOR UPDATE", otherDrainer, claim))
            await lockRow.ExecuteNonQueryAsync();

        var verification = await migration.PostAsync("verify");
        Assert.False((bool)verification["clean"]!, verification.ToJsonString());
        Assert.Contains(verification["mismatches"]!.AsArray(), m => (string)m!["kind"]! == "different" && (Guid)m["transactionId"]! == payment.TransactionId);
        await claim.RollbackAsync();
    }

    [Fact]
    public async Task A_backfill_overtaken_by_a_rollback_and_a_new_start_cannot_write_its_progress_into_the_new_run()
    {
        // The rollback and the new start run inside one of the backfill's DynamoDB requests (its first UpdateItem, an
        // aggregates mark), which is cut off after the write time-out: 2 s in these tests, less than both steps can take on a
        // loaded machine (CI saw it cancelled). Long enough here that the interleaving, not the clock, decides.
        await using var factory = await MigrationTests.StartAsync(settings: new Dictionary<string, string?> { ["DynamoDb:WriteTimeout"] = "00:00:30" });
        using var migration = new MigrationClient(factory);
        var tenant = await TestTenant.CreateAsync(factory);
        await migration.SeedAsync([tenant], 300);
        await BackfillHarness.HoldLeaseAsync(factory); // this test's backfill is the only one
        await migration.PostAsync("start");

        // While the first run copies its first batch, the migration is rolled back, a payment stamped with an older time
        // (an instance whose clock is behind) is written on PostgreSQL alone, and the migration starts again.
        var late = 0;
        using var handler = new BetweenStepsHandler((operation, _) => operation == "UpdateItem", () =>
        {
            if (Interlocked.Exchange(ref late, 1) == 1) return;
            Assert.Equal("postgres", (string)migration.RollbackAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult()["phase"]!);
            InsertPaymentAsync(factory.ConnectionString, tenant, "late", DateTimeOffset.UtcNow.AddDays(-31)).GetAwaiter().GetResult();
            migration.PostAsync("start").GetAwaiter().GetResult();
        });
        var backfill = BackfillHarness.Through(factory, handler);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        Assert.True(await backfill.RunAsync(_ => Task.FromResult(true), deadline.Token));

        Assert.Equal(1, late);
        await migration.VerifyCleanAsync(); // the second run copied everything, the late payment included
    }

    private static PaymentResponse Created(HttpResponseMessage response) =>
        TestTenant.ReadAsync<PaymentResponse>(response, HttpStatusCode.Created).GetAwaiter().GetResult();

    // A payment written to PostgreSQL alone (no outbox row), created at createdAt.
    private static async Task<PaymentTransaction> InsertPaymentAsync(string connectionString, TestTenant tenant, string key, DateTimeOffset createdAt)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var request = PaymentRequest.Create(tenant.CampaignId, tenant.DonorId, 700, "USD", "card", "tok_visa");
        var payment = PaymentTransaction.Create(tenant.OrganizationId, request, GatewayOutcome.Succeeded, key, createdAt);
        var record = new IdempotencyRecord(tenant.OrganizationId, key, request.Fingerprint(), payment.TransactionId, PaymentSnapshotJson.Serialize(payment), payment.CreatedAt);
        await new ProLifeProsper.Api.Storage.PostgreSql.PostgreSqlPaymentTransactionStore(dataSource).CreateAsync(payment, record, default);
        return payment;
    }

    private static Task InsertIntentAsync(string connectionString, Guid organizationId, Guid transactionId, string key, int expectedVersion) =>
        InsertOutboxRowAsync(connectionString, "postgresql", organizationId, transactionId, key, expectedVersion, TimeSpan.Zero);

    // An outbox row due after dueIn (a row whose earlier attempts failed waits out its backoff); returns its id.
    private static async Task<long> InsertOutboxRowAsync(string connectionString, string target, Guid organizationId, Guid transactionId, string key,
        int expectedVersion, TimeSpan dueIn)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(
            "INSERT INTO payment_outbox (target, organization_id, transaction_id, idempotency_key, expected_version, enqueued_at, attempts, next_attempt_at) " +
            "VALUES ($5, $1, $2, $3, $4, now(), $7, now() + $6) RETURNING id");
        command.Parameters.Add(new() { Value = organizationId });
        command.Parameters.Add(new() { Value = transactionId });
        command.Parameters.Add(new() { Value = key });
        command.Parameters.Add(new() { Value = expectedVersion });
        command.Parameters.Add(new() { Value = target });
        command.Parameters.Add(new() { Value = dueIn });
        command.Parameters.Add(new() { Value = dueIn > TimeSpan.Zero ? 5 : 0 });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task WaitForOutboxAsync(MigrationClient migration, string target)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((long)(await migration.StatusAsync())["outboxDepth"]![target]! > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the outbox for {target} did not drain: {await migration.StatusAsync()}");
            await Task.Delay(100);
        }
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
