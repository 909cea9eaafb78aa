using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using ProLifeProsper.Api.Capacity;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Api.Tests.Capacity;

/// <summary>What <c>plan</c> prints is configuration: it binds, and the tables made from it carry it.</summary>
public sealed class RecommendedSettingsTests
{
    private static DynamoDbOptions Bind(string json, string prefix)
    {
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();
        var options = new DynamoDbOptions { TablePrefix = prefix };
        configuration.GetSection(DynamoDbOptions.SectionName).Bind(options);
        return options;
    }

    [Fact]
    public async Task The_planned_configuration_pastes_into_appsettings_and_the_tables_made_from_it_are_pre_warmed_for_the_peak()
    {
        var plan = CapacityPlanner.Plan(new TrafficProfile { Organizations = 2_000, PeakTransactionsPerSecond = 40_000, SpikeTransactionsPerSecond = 5_000 });
        var options = Bind(plan.RecommendedConfiguration, DynaliteServer.NewTablePrefix("warm"));

        Assert.Equal(plan.PartitionHeat.RecommendedWriteShards, options.WriteShards);
        Assert.Equal(DynamoDbTables.CapacityTargets.Order(), options.WarmThroughput.Keys.Order());
        Assert.Equal(DynamoDbTables.CapacityTargets.Order(), options.ProvisionedThroughput.Keys.Order());
        // 45,000 payments/s, each a ~0.6 KB item (1 unit) written once and rewritten by settlements and refunds (12%), a replay
        // refused now and then (1%): ≥ 50,000 writes/s.
        Assert.InRange(options.WarmThroughput["transactions"].WriteUnitsPerSecond!.Value, 50_000, 52_000);
        var table = DynamoDbTables.Transactions(options);
        Assert.Equal(options.WarmThroughput["transactions"].WriteUnitsPerSecond, table.WarmThroughput.WriteUnitsPerSecond);
        Assert.All(table.GlobalSecondaryIndexes, index => Assert.True(index.WarmThroughput.WriteUnitsPerSecond >= 4_000, index.IndexName));

        // dynalite has no warm throughput: it creates the tables all the same (a real DynamoDB pre-warms them).
        using var client = (await DynaliteServer.GetAsync()).CreateClient();
        await new DynamoDbTableInitializer(client, Microsoft.Extensions.Options.Options.Create(options), NullLogger<DynamoDbTableInitializer>.Instance).EnsureTablesAsync(default);
        Assert.Equal(TableStatus.ACTIVE, (await client.DescribeTableAsync(options.TransactionsTableName)).Table.TableStatus);
    }

    [Fact]
    public async Task The_planned_provisioned_capacity_pastes_into_appsettings_and_every_table_and_index_new_or_existing_gets_it()
    {
        using var client = (await DynaliteServer.GetAsync()).CreateClient();
        var prefix = DynaliteServer.NewTablePrefix("provisioned");
        await Initializer(client, new DynamoDbOptions { TablePrefix = prefix }).EnsureTablesAsync(default); // on-demand, as by default

        // A steady load: capacity bought for a year is the cheapest that serves it, so the plan calls for provisioned tables.
        var steady = new TrafficProfile { Organizations = 500, MonthlyTransactions = 2_600_000_000, PeakTransactionsPerSecond = 1_200, SpikeTransactionsPerSecond = 0 };
        var plan = CapacityPlanner.Plan(steady);
        var options = Bind(plan.RecommendedConfiguration, prefix);
        Assert.Equal(DynamoDbBillingMode.Provisioned, options.BillingMode);
        Assert.Empty(options.CapacityProblems());
        await Initializer(client, options).EnsureTablesAsync(default);
        await AssertProvisionedAsync(client, options, plan); // switched from on-demand, each pool its own units

        // Traffic doubles: the new plan, pasted over the old one, is applied to the existing tables.
        var doubled = CapacityPlanner.Plan(steady with { PeakTransactionsPerSecond = 2_400 });
        Assert.True(doubled.Cost.Pools.All(p => p.ProvisionedWriteCapacityUnits > plan.Cost.Pools.Single(q => q.Pool == p.Pool).ProvisionedWriteCapacityUnits || p.WriteUnitsPerPayment == 0));
        var raised = Bind(doubled.RecommendedConfiguration, prefix);
        await Initializer(client, raised).EnsureTablesAsync(default);
        await AssertProvisionedAsync(client, raised, doubled);

        // Nothing differs any more: no UpdateTable is due (DynamoDB refuses one that changes nothing).
        foreach (var expected in DynamoDbTables.All(raised))
            Assert.Null(DynamoDbTableInitializer.CapacityUpdate(expected, (await client.DescribeTableAsync(expected.TableName)).Table));
    }

    private static DynamoDbTableInitializer Initializer(IAmazonDynamoDB client, DynamoDbOptions options) =>
        new(client, Microsoft.Extensions.Options.Options.Create(options), NullLogger<DynamoDbTableInitializer>.Instance);

    // Each table and index, once dynalite has finished updating it, provisioned with what the plan printed for it.
    private static async Task AssertProvisionedAsync(IAmazonDynamoDB client, DynamoDbOptions options, CapacityPlan plan)
    {
        var described = new Dictionary<string, ProvisionedThroughputDescription>();
        foreach (var (target, name) in new[] { ("transactions", options.TransactionsTableName), ("idempotency", options.IdempotencyTableName), ("aggregates", options.AggregatesTableName) })
        {
            TableDescription table;
            do table = (await client.DescribeTableAsync(name)).Table;
            while (table.TableStatus != TableStatus.ACTIVE || table.GlobalSecondaryIndexes?.Any(i => i.IndexStatus != IndexStatus.ACTIVE) == true);
            Assert.Equal(BillingMode.PROVISIONED, table.BillingModeSummary?.BillingMode ?? BillingMode.PROVISIONED);
            described[target] = table.ProvisionedThroughput;
            foreach (var index in table.GlobalSecondaryIndexes ?? []) described[index.IndexName] = index.ProvisionedThroughput;
        }
        Assert.Equal(DynamoDbTables.CapacityTargets.Order(), described.Keys.Order());
        foreach (var pool in plan.Cost.Pools)
            Assert.Equal((pool.ProvisionedReadCapacityUnits, pool.ProvisionedWriteCapacityUnits),
                (described[pool.Pool].ReadCapacityUnits!.Value, described[pool.Pool].WriteCapacityUnits!.Value));
    }

    [Fact]
    public void Capacity_settings_name_only_tables_and_indexes()
    {
        var options = new DynamoDbOptions { BillingMode = DynamoDbBillingMode.Provisioned, ProvisionedThroughput = { ["transaction"] = new() { ReadCapacityUnits = 5 }, ["idempotency"] = new() { WriteCapacityUnits = 0 }, ["dateHour-index"] = new() { WriteCapacityUnits = 9 } } };
        var problems = options.CapacityProblems().ToList();
        Assert.Equal(2, problems.Count); // the retired hourly index is accepted (an upgrade keeps its settings) and ignored
        Assert.Contains("'transaction' is no table or index", problems[0]);
        // A pool left out gets the defaults; a unit left out, the default for it.
        Assert.Equal((1_000, 2_000), (options.ProvisionedThroughputOf("status-timestamp-index").ReadCapacityUnits!.Value, options.ProvisionedThroughputOf("status-timestamp-index").WriteCapacityUnits!.Value));
        Assert.Equal((1_000, 0), (options.ProvisionedThroughputOf("idempotency").ReadCapacityUnits!.Value, options.ProvisionedThroughputOf("idempotency").WriteCapacityUnits!.Value));
    }

    [Fact]
    public void An_existing_provisioned_table_is_sent_only_the_units_below_the_configuration_never_lowered_and_an_on_demand_configuration_sends_none()
    {
        var options = new DynamoDbOptions
        {
            BillingMode = DynamoDbBillingMode.Provisioned,
            ProvisionedThroughput = { ["transactions"] = new() { ReadCapacityUnits = 300, WriteCapacityUnits = 200 }, [PaymentItemKeys.StatusTimestampIndex] = new() { WriteCapacityUnits = 150 } },
        };
        var expected = DynamoDbTables.Transactions(options);
        TableDescription Described(long tableWrites, long pendingWrites) => new()
        {
            BillingModeSummary = new BillingModeSummary { BillingMode = BillingMode.PROVISIONED },
            ProvisionedThroughput = new ProvisionedThroughputDescription { ReadCapacityUnits = 300, WriteCapacityUnits = tableWrites },
            GlobalSecondaryIndexes = expected.GlobalSecondaryIndexes.Select(i => new GlobalSecondaryIndexDescription
            {
                IndexName = i.IndexName,
                ProvisionedThroughput = new ProvisionedThroughputDescription
                {
                    ReadCapacityUnits = i.ProvisionedThroughput.ReadCapacityUnits,
                    WriteCapacityUnits = i.IndexName == PaymentItemKeys.StatusTimestampIndex ? pendingWrites : i.ProvisionedThroughput.WriteCapacityUnits,
                },
            }).ToList(),
        };

        Assert.Null(DynamoDbTableInitializer.CapacityUpdate(expected, Described(200, 150)));
        var update = DynamoDbTableInitializer.CapacityUpdate(expected, Described(200, 100));
        Assert.NotNull(update);
        Assert.Null(update.ProvisionedThroughput); // the table's units are right: not sent
        Assert.Null(update.BillingMode);
        var index = Assert.Single(update.GlobalSecondaryIndexUpdates).Update;
        Assert.Equal((PaymentItemKeys.StatusTimestampIndex, 1_000L, 150L), (index.IndexName, index.ProvisionedThroughput.ReadCapacityUnits!.Value, index.ProvisionedThroughput.WriteCapacityUnits!.Value));

        // A live table above the configuration (an auto-scaler raised it, a pool left to its default) is never lowered.
        Assert.Null(DynamoDbTableInitializer.CapacityUpdate(expected, Described(50_000, 40_000)));

        // On-demand configured (the default): a provisioned table is left as it is.
        Assert.Null(DynamoDbTableInitializer.CapacityUpdate(DynamoDbTables.Transactions(new DynamoDbOptions()), Described(1, 1)));
    }

    [Fact]
    public void An_existing_table_is_raised_to_the_configured_warm_throughput_and_never_lowered()
    {
        var options = new DynamoDbOptions
        {
            WarmThroughput = new()
            {
                ["transactions"] = new() { WriteUnitsPerSecond = 50_000, ReadUnitsPerSecond = 12_000 },
                [PaymentItemKeys.StatusTimestampIndex] = new() { WriteUnitsPerSecond = 60_000 },
            },
        };
        var expected = DynamoDbTables.Transactions(options);
        TableDescription Described(long tableWrites, long indexWrites) => new()
        {
            WarmThroughput = new TableWarmThroughputDescription { WriteUnitsPerSecond = tableWrites, ReadUnitsPerSecond = 12_000 },
            GlobalSecondaryIndexes = expected.GlobalSecondaryIndexes.Select(i => new GlobalSecondaryIndexDescription
            {
                IndexName = i.IndexName,
                WarmThroughput = new GlobalSecondaryIndexWarmThroughputDescription { WriteUnitsPerSecond = indexWrites, ReadUnitsPerSecond = 12_000 },
            }).ToList(),
        };

        var raise = DynamoDbTableInitializer.WarmUpdate(expected, Described(4_000, 4_000));
        Assert.NotNull(raise);
        Assert.Equal(50_000, raise.WarmThroughput.WriteUnitsPerSecond);
        Assert.Equal(PaymentItemKeys.StatusTimestampIndex, Assert.Single(raise.GlobalSecondaryIndexUpdates).Update.IndexName);

        Assert.Null(DynamoDbTableInitializer.WarmUpdate(expected, Described(80_000, 80_000))); // already warmer: left alone
    }

    [Fact]
    public void Switching_an_older_table_to_provisioned_gives_the_retired_hourly_index_units_too()
    {
        // DynamoDB refuses a switch that leaves out an index of the table; the retired one still takes old items' changes.
        var options = new DynamoDbOptions { BillingMode = DynamoDbBillingMode.Provisioned, ProvisionedThroughput = { ["transactions"] = new() { ReadCapacityUnits = 300, WriteCapacityUnits = 200 } } };
        var expected = DynamoDbTables.Transactions(options);
        var older = new TableDescription
        {
            BillingModeSummary = new BillingModeSummary { BillingMode = BillingMode.PAY_PER_REQUEST },
            GlobalSecondaryIndexes = [.. expected.GlobalSecondaryIndexes.Select(i => new GlobalSecondaryIndexDescription { IndexName = i.IndexName }),
                new GlobalSecondaryIndexDescription { IndexName = DynamoDbTables.RetiredHourlyIndex }],
        };
        var update = DynamoDbTableInitializer.CapacityUpdate(expected, older)!;
        Assert.Equal(BillingMode.PROVISIONED, update.BillingMode);
        var retired = Assert.Single(update.GlobalSecondaryIndexUpdates, u => u.Update.IndexName == DynamoDbTables.RetiredHourlyIndex).Update;
        Assert.Equal((300L, 200L), (retired.ProvisionedThroughput.ReadCapacityUnits!.Value, retired.ProvisionedThroughput.WriteCapacityUnits!.Value));
        Assert.Equal(expected.GlobalSecondaryIndexes.Count + 1, update.GlobalSecondaryIndexUpdates.Count);
    }
}
