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
        Assert.Equal(DynamoDbWarmThroughput.Targets.Order(), options.WarmThroughput.Keys.Order());
        // 45,000 payments/s, each a ~0.6 KB item (1 unit) written once and rewritten by settlements and refunds (12%): ≥ 50,000 writes/s.
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
    public void An_existing_table_is_raised_to_the_configured_warm_throughput_and_never_lowered()
    {
        var options = new DynamoDbOptions
        {
            WarmThroughput = new()
            {
                ["transactions"] = new() { WriteUnitsPerSecond = 50_000, ReadUnitsPerSecond = 12_000 },
                [PaymentItemKeys.DateHourIndex] = new() { WriteUnitsPerSecond = 60_000 },
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
        Assert.Equal(PaymentItemKeys.DateHourIndex, Assert.Single(raise.GlobalSecondaryIndexUpdates).Update.IndexName);

        Assert.Null(DynamoDbTableInitializer.WarmUpdate(expected, Described(80_000, 80_000))); // already warmer: left alone
    }
}
