using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ProLifeProsper.Api.Infrastructure.Rows;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Api.StoreMigration;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Api.Tests.Migration;

/// <summary>
/// When the drain may drop an intent (a write to DynamoDB, made in a DynamoDB phase, still to be copied home) whose write
/// DynamoDB does not have past the grace: only when DynamoDB shows it never landed, never when DynamoDB has lost the
/// payment itself. Real dynalite and PostgreSQL; the rows are built by the test and applied by the API's mirror.
/// </summary>
public sealed class IntentDropTests
{
    [Fact]
    public async Task An_update_intent_against_a_payment_DynamoDB_no_longer_holds_is_kept_and_the_others_are_dropped()
    {
        var dynalite = await DynaliteServer.GetAsync();
        await using var factory = await MigrationTests.StartAsync(dynalite.ServiceUrl);
        using (var migration = new MigrationClient(factory))
        {
            await migration.PostAsync("start"); // creates the tables
            await migration.WaitForBackfillAsync(TimeSpan.FromSeconds(60));
        }
        var tenant = await TestTenant.CreateAsync(factory);
        var mirror = factory.Services.GetRequiredService<PaymentMirror>();
        var dynamo = factory.Services.GetRequiredService<DynamoDbPaymentTransactionStore>();
        OutboxRow Intent(Guid transactionId, int version, string key) => new()
        {
            Target = PostgreSqlPaymentTransactionStore.StoreName, OrganizationId = tenant.OrganizationId, TransactionId = transactionId,
            IdempotencyKey = key, ExpectedVersion = version, Age = TimeSpan.FromMinutes(10),
        };

        // A refund's intent whose payment DynamoDB has lost (it came back empty): the refund may have been paid out. Kept.
        var lost = await Assert.ThrowsAsync<InvalidOperationException>(() => mirror.ApplyAsync(Intent(Guid.CreateVersion7(), 2, "refund-of-a-lost-payment"), default));
        Assert.Contains("kept for an operator", lost.Message);

        // Only the payments table lost (restored on its own): the intent is kept for the operator (not answered "in flight"
        // forever by a look-up of its record), and the refund's record, the trace of which refund was claimed, stays.
        var refunded = PaymentRequest.Create(tenant.CampaignId, tenant.DonorId, 900, "USD", "card", "tok_visa");
        var paid = PaymentTransaction.Create(tenant.OrganizationId, refunded, GatewayOutcome.Succeeded, "paid-then-lost", DateTimeOffset.UtcNow);
        await dynamo.CreateAsync(paid, new IdempotencyRecord(tenant.OrganizationId, "paid-then-lost", refunded.Fingerprint(), paid.TransactionId,
            PaymentSnapshotJson.Serialize(paid), paid.CreatedAt), default);
        var refund = new IdempotencyRecord(tenant.OrganizationId, "refund-then-lost", "fp", Guid.CreateVersion7(), "{}", DateTimeOffset.UtcNow);
        Assert.Equal(refund, await dynamo.UpdateAsync(paid.Refund(300, DateTimeOffset.UtcNow), refund, default));
        var client = factory.Services.GetRequiredService<Amazon.DynamoDBv2.IAmazonDynamoDB>();
        var options = factory.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DynamoDbOptions>>().Value;
        await client.DeleteItemAsync(options.TransactionsTableName, new Dictionary<string, Amazon.DynamoDBv2.Model.AttributeValue>
        {
            [PaymentItemKeys.Partition] = new(PaymentItemKeys.PartitionOf(paid.OrganizationId, paid.TransactionId, 1)),
            [PaymentItemKeys.SortKey] = new(PaymentItemKeys.SortKeyOf(paid.CreatedAt, paid.TransactionId)),
        });
        Assert.Null(await dynamo.GetAsync(paid.OrganizationId, paid.TransactionId, default));
        await Assert.ThrowsAsync<InvalidOperationException>(() => mirror.ApplyAsync(Intent(paid.TransactionId, 2, "refund-then-lost"), default));
        var kept = await client.GetItemAsync(options.IdempotencyTableName, new Dictionary<string, Amazon.DynamoDBv2.Model.AttributeValue>
        {
            [DynamoDbTables.IdempotencyPartition] = new(PaymentItemKeys.IdempotencyPartitionOf(tenant.OrganizationId, "refund-then-lost")),
            [DynamoDbTables.IdempotencyKey] = new("refund-then-lost"),
        });
        Assert.True(kept.Item is { Count: > 0 }, "the refund's record was withdrawn");

        // A refund's intent whose payment DynamoDB holds at the version before: the refund never landed. Dropped.
        var request = PaymentRequest.Create(tenant.CampaignId, tenant.DonorId, 700, "USD", "card", "tok_visa");
        var payment = PaymentTransaction.Create(tenant.OrganizationId, request, GatewayOutcome.Succeeded, "intent-drop", DateTimeOffset.UtcNow);
        await dynamo.CreateAsync(payment, new IdempotencyRecord(tenant.OrganizationId, "intent-drop", request.Fingerprint(), payment.TransactionId,
            PaymentSnapshotJson.Serialize(payment), payment.CreatedAt), default);
        Assert.Equal(OutboxOutcome.Done, await mirror.ApplyAsync(Intent(payment.TransactionId, 2, "refund-never-landed"), default));

        // A create's intent with nothing in DynamoDB: never landed, or lost with the rest; its charge, if any, is recorded
        // by the charge reconciliation, which reads the processor. Dropped.
        Assert.Equal(OutboxOutcome.Done, await mirror.ApplyAsync(Intent(Guid.CreateVersion7(), 1, "create-never-landed"), default));
    }

    [Fact]
    public async Task A_migration_does_not_start_while_a_write_of_the_last_DynamoDB_phase_is_not_home()
    {
        var dynalite = await DynaliteServer.GetAsync();
        await using var factory = await MigrationTests.StartAsync(dynalite.ServiceUrl);
        var tenant = await TestTenant.CreateAsync(factory);
        // What a fail-over leaves (or a write kept for an operator): an intent still to come home to PostgreSQL.
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(factory.ConnectionString);
        await using (var insert = dataSource.CreateCommand(
            "INSERT INTO payment_outbox (target, organization_id, transaction_id, idempotency_key, expected_version, enqueued_at, attempts, next_attempt_at) " +
            "VALUES ('postgresql', $1, $2, 'refund-kept', 2, now(), 0, now() + interval '1 hour')"))
        {
            insert.Parameters.Add(new() { Value = tenant.OrganizationId });
            insert.Parameters.Add(new() { Value = Guid.CreateVersion7() });
            await insert.ExecuteNonQueryAsync();
        }

        using var migration = new MigrationClient(factory);
        var refused = await migration.PostAsync("start", System.Net.HttpStatusCode.Conflict);
        Assert.Contains("have not come home", refused.ToJsonString());
        Assert.Equal("postgres", await migration.PhaseAsync());

        // The operator settled it and removed the row: the migration starts.
        await using (var delete = dataSource.CreateCommand("DELETE FROM payment_outbox WHERE target = 'postgresql'")) await delete.ExecuteNonQueryAsync();
        await migration.PostAsync("start");
        Assert.NotEqual("postgres", await migration.PhaseAsync());
    }

    [Theory]
    [InlineData("00:00:10", "00:02:00", true)]
    [InlineData("00:00:10", "00:00:25", true)]
    [InlineData("00:00:10", "00:00:24", false)]
    [InlineData("00:01:00", "00:02:00", false)]
    public void The_intent_grace_must_outlast_two_write_time_outs(string writeTimeout, string intentGrace, bool valid)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["DynamoDb:WriteTimeout"] = writeTimeout, ["Migration:IntentGrace"] = intentGrace });
        builder.Services.AddOptions<DynamoDbOptions>().BindConfiguration(DynamoDbOptions.SectionName);
        builder.AddStoreMigration();
        using var services = builder.Services.BuildServiceProvider();
        var read = () => services.GetRequiredService<Microsoft.Extensions.Options.IOptions<MigrationOptions>>().Value;
        if (valid) Assert.Equal(TimeSpan.Parse(intentGrace, System.Globalization.CultureInfo.InvariantCulture), read().IntentGrace);
        else Assert.Contains("IntentGrace", Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(read).Message);
    }
}
