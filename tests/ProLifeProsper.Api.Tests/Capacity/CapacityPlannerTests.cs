using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Amazon.DynamoDBv2.Model;
using ProLifeProsper.Api.Capacity;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Tests.Infrastructure;
using ProLifeProsper.Operator.Capacity;

namespace ProLifeProsper.Api.Tests.Capacity;

/// <summary>The pricing arithmetic against hand-computed examples (units given), and the heat simulation with a fixed seed.</summary>
public sealed class CapacityPlannerTests
{
    private static readonly CapacityUnits.ItemSizes SmallItems = new(IdempotencyKeyLength: 36, Payment: 600, PendingPayment: 640, SettledPayment: 620,
        RefundedPayment: 660, IdempotencyRecord: 900, RefundRecord: 1_600, TransactionIdIndexEntry: 190, StatusIndexEntry: 640);

    /// <summary>Given units: a card payment writes 1 unit into four pools and reads nothing; a get reads 1 unit; nothing else costs.</summary>
    private static IReadOnlyList<OperationUnits> GivenUnits()
    {
        static OperationUnits Free(string name) => new(name, new Dictionary<string, double>(), new Dictionary<string, double>(), "");
        return
        [
            new(CapacityUnits.CreateCard, new Dictionary<string, double> { ["transactions"] = 1, ["idempotency"] = 1, ["transactionId-index"] = 1, ["aggregates"] = 1 },
                new Dictionary<string, double>(), ""),
            new(CapacityUnits.GetById, new Dictionary<string, double>(), new Dictionary<string, double> { ["transactions"] = 1 }, ""),
            Free(CapacityUnits.CreatePending), Free(CapacityUnits.Settle), Free(CapacityUnits.Refund), Free(CapacityUnits.ReplayedCreate), Free(CapacityUnits.ListPage), Free(CapacityUnits.CampaignProgress),
        ];
    }

    [Fact]
    public void Item_sizes_follow_DynamoDB_rules()
    {
        // "a" (1) + "xyz" (3) + "bb" (2) + 123 (3 digits: 2 + 1) = 9 bytes
        var item = new Dictionary<string, AttributeValue> { ["a"] = new("xyz"), ["bb"] = new() { N = "123" } };
        Assert.Equal(9, DynamoDbItemSize.Of(item));
        Assert.Equal(4, DynamoDbItemSize.Of(item, ["a"]));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(1_024, 1)]
    [InlineData(1_025, 2)]
    [InlineData(3_000, 3)]
    public void A_write_unit_is_one_KB(int bytes, double units) => Assert.Equal(units, CapacityUnits.WriteUnits(bytes));

    [Theory]
    [InlineData(0, true, 1)]
    [InlineData(4_096, true, 1)]
    [InlineData(4_097, true, 2)]
    [InlineData(4_097, false, 1)]
    [InlineData(100, false, 0.5)]
    public void A_read_unit_is_4_KB_strongly_consistent(int bytes, bool consistent, double units) => Assert.Equal(units, CapacityUnits.ReadUnits(bytes, consistent));

    [Fact]
    public void Costs_match_a_hand_computed_example_with_every_table_and_index_provisioned()
    {
        var profile = new TrafficProfile
        {
            MonthlyTransactions = 1_000_000, PeakTransactionsPerSecond = 100, SpikeTransactionsPerSecond = 0, ReadsPerPayment = 1, ListPagesPerPayment = 0,
            PendingShare = 0, RefundShare = 0, ReplayShare = 0, RetentionMonths = 1, TargetUtilization = 0.5, CampaignViewsPerPayment = 0,
        };
        var cost = CostModel.Estimate(profile, GivenUnits(), SmallItems, new CapacityPrices());

        Assert.Equal(4, cost.WriteUnitsPerPayment);
        Assert.Equal(1, cost.ReadUnitsPerPayment);
        // 4M WRU × $0.625/M + 1M RRU × $0.125/M = $2.50 + $0.125; storage under the free 25 GB
        Assert.Equal(2.63m, cost.Modes.Single(m => m.Mode == CostModel.OnDemand).MonthlyUsd);
        // Each pool for its own peak at 50%: 200 WCU in each of the four written pools, 1 (DynamoDB's minimum) in the pending
        // index; 200 RCU in the table, 1 in each of the four others: 801 WCU, 204 RCU. (801 × 0.00065 + 204 × 0.00013) × 730 h
        var provisioned = cost.Modes.Single(m => m.Mode == CostModel.ProvisionedRightSized);
        Assert.Equal((801, 204), (provisioned.WriteCapacityUnits, provisioned.ReadCapacityUnits));
        Assert.Equal(399.43m, provisioned.MonthlyUsd);
        Assert.Equal((200, 1), (cost.Pools.Single(p => p.Pool == "idempotency").ProvisionedWriteCapacityUnits, cost.Pools.Single(p => p.Pool == "idempotency").ProvisionedReadCapacityUnits));
        // 9 × (150/12 + 0.0128 × 730) + 3 × (30/12 + 0.0025 × 730)
        Assert.Equal(209.57m, cost.Modes.Single(m => m.Mode == CostModel.ReservedRightSized).MonthlyUsd);
        // The code's defaults give all five pools 2,000 WCU and 1,000 RCU: 10,000 WCU and 5,000 RCU billed, (6.5 + 0.65) × 730 h.
        var defaults = cost.Modes.Single(m => m.Mode == CostModel.ProvisionedDefaults);
        Assert.Equal((10_000, 5_000, 5_219.50m), (defaults.WriteCapacityUnits, defaults.ReadCapacityUnits, defaults.MonthlyUsd));
        Assert.True(defaults.ServesPeak); // the table's 1,000 RCU serve 1,000 gets/s, the first pool to run out
        Assert.Contains("~1,000 payments/s (transactions", defaults.Notes);
        Assert.Equal(CostModel.OnDemand, cost.Recommended);
    }

    [Fact]
    public void The_spike_is_provisioned_on_top_of_the_peak()
    {
        var profile = new TrafficProfile { PeakTransactionsPerSecond = 100, SpikeTransactionsPerSecond = 50, ReadsPerPayment = 1, ListPagesPerPayment = 0, PendingShare = 0, RefundShare = 0, ReplayShare = 0, TargetUtilization = 1, CampaignViewsPerPayment = 0 };
        var cost = CostModel.Estimate(profile, GivenUnits(), SmallItems, new CapacityPrices());
        Assert.All(cost.Pools.Where(p => p.WriteUnitsPerPayment > 0), p => Assert.Equal(150, p.ProvisionedWriteCapacityUnits));
        Assert.Equal(150, cost.Pools.Single(p => p.Pool == "transactions").ProvisionedReadCapacityUnits);
    }

    [Fact]
    public void A_steady_heavy_load_recommends_reserved_capacity()
    {
        var profile = new TrafficProfile { MonthlyTransactions = 2_600_000_000, PeakTransactionsPerSecond = 1_200, SpikeTransactionsPerSecond = 0, ReadsPerPayment = 1, PendingShare = 0, RefundShare = 0, ListPagesPerPayment = 0, CampaignViewsPerPayment = 0 };
        var cost = CostModel.Estimate(profile, GivenUnits(), SmallItems, new CapacityPrices());
        Assert.Equal(CostModel.ReservedRightSized, cost.Recommended);
    }

    [Fact]
    public void The_heat_simulation_finds_the_hot_spots_at_internet_scale_with_the_real_key_code_and_its_recommendation_removes_them()
    {
        var profile = new TrafficProfile { Organizations = 20_000, PeakTransactionsPerSecond = 40_000, SpikeTransactionsPerSecond = 5_000, ZipfExponent = 1.0, WriteShards = 2, Seed = 7 };
        var first = PartitionHeatSimulation.Run(profile, SmallItems);

        // Zipf(1) over 20,000: the largest has 1/H(20,000) ≈ 9.5% of 40,000/s ≈ 3,817/s, plus the 5,000/s spike.
        Assert.InRange(first.LargestOrganizationTransactionsPerSecond, 8_700, 8_950);
        Assert.InRange(first.TopOrganizationWriteUnits[0], 8_700, 9_300); // hottest second, Poisson above the mean
        Assert.InRange(first.HotOrganizationSplitsNeeded, 14, 16);       // ⌈~9,000 × 1.12 (settlements, refunds) / 700⌉
        var table = first.Partitions.Single(p => p.Target == "table");
        Assert.True(table.OverLimit);
        // The platform's pending payments (10% of ~45,000/s), each entry written and later deleted by its settlement (one unit
        // each), over 2 shards (the keys the mapper builds): ~4,550 each.
        var pending = first.Partitions.Where(p => p.Target == "status-timestamp-index").ToList();
        Assert.InRange(pending[0].PeakWriteUnitsPerSecond, 8_700, 9_500);
        Assert.True(pending[1].OverLimit);
        Assert.InRange(pending[1].PeakWriteUnitsPerSecond, 4_300, 4_800);
        Assert.Equal(2, first.PendingShardWriteUnits.Count); // exactly the 2 keys hash(id) mod 2 gives
        Assert.InRange(first.ShardsNeeded, 13, 14); // ⌈~9,100 / 700⌉
        Assert.DoesNotContain(first.Partitions, p => p.Target.Contains("dateHour", StringComparison.Ordinal)); // no payment writes the retired hourly index
        Assert.Equal(first.ShardsNeeded, first.RecommendedWriteShards);
        Assert.Equal(first.HotOrganizationSplitsNeeded, first.OrganizationSplits[0].Shards);
        Assert.False(first.Partitions.Single(p => p.Target == "idempotency table").OverLimit); // 16 keys per organization

        // The recommendation, applied to the same arrivals through the same key code: no partition of the table or an index over its limit.
        Assert.All(first.PartitionsRecommended, p => Assert.False(p.OverLimit, $"{p.Target} {p.PartitionKey}: {p.PeakWriteUnitsPerSecond}"));
        Assert.Equal(first.RecommendedWriteShards, first.PendingShardWriteUnitsRecommended.Count);

        // Reproducible: the same seed gives the same plan.
        var second = PartitionHeatSimulation.Run(profile, SmallItems);
        Assert.Equal(first.Partitions, second.Partitions);
        Assert.Equal(first.PartitionsRecommended, second.PartitionsRecommended);
    }

    [Fact]
    public void A_plan_nobody_waits_for_stops()
    {
        using var gone = new CancellationTokenSource();
        gone.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => CapacityPlanner.Plan(new TrafficProfile(), cancellationToken: gone.Token));
    }

    [Fact]
    public async Task One_plan_at_a_time_runs_on_an_instance_and_another_meanwhile_is_asked_to_wait()
    {
        using var gate = new CapacityPlanGate();
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => gate.Plan(new TrafficProfile { PeakTransactionsPerSecond = 195_000 }, stop.Token)); // seconds of simulation
        Assert.True(SpinWait.SpinUntil(() => gate.Busy, TimeSpan.FromSeconds(10)));

        var refused = Assert.Throws<ProLifeProsper.Api.Errors.RateLimitedException>(() => gate.Plan(new TrafficProfile(), CancellationToken.None));
        Assert.True(refused.RetryAfter > TimeSpan.Zero);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        Assert.NotNull(gate.Plan(new TrafficProfile { Organizations = 500, PeakTransactionsPerSecond = 100 }, CancellationToken.None)); // free again
    }

    [Theory]
    [InlineData(1_000, 0, 0, 400_000, 0.05)]
    [InlineData(0, 1_000, 0, 400_000, 0.05)]
    [InlineData(0, 0, 1_000, 400_000, 0.05)]
    [InlineData(1_000, 1_000, 1_000, 400_000, 1)]
    [InlineData(1_000, 1_000, 1_000, 0, 0.05)]
    public void A_profile_at_its_fields_bounds_is_planned_or_refused_as_input_never_overflowed(
        double views, double reads, double lists, int extraBytes, double utilization)
    {
        var profile = new TrafficProfile
        {
            MonthlyTransactions = 1_000_000_000_000, PeakTransactionsPerSecond = 1_000, SpikeTransactionsPerSecond = 0, Organizations = 1,
            CampaignViewsPerPayment = views, ReadsPerPayment = reads, ListPagesPerPayment = lists, ExtraBytesPerPayment = extraBytes,
            TargetUtilization = utilization, PendingShare = 1, RefundShare = 1, ReplayShare = 1, IdempotencyKeyLength = 255, RetentionMonths = 1_200,
        };
        try
        {
            var plan = CapacityPlanner.Plan(profile);
            Assert.All(plan.Cost.Pools, p => Assert.InRange(p.ProvisionedReadCapacityUnits, 1, (long)CostModel.MostUnitsPerSecond));
            Assert.All(plan.Cost.Modes, m => Assert.True(m.MonthlyUsd >= 0));
        }
        catch (ProLifeProsper.Domain.Common.DomainException refused)
        {
            Assert.Contains("beyond the", string.Join(" ", refused.Errors!.SelectMany(e => e.Value)));
        }
    }

    [Fact]
    public void The_recommended_index_shards_stay_within_what_the_API_takes()
    {
        // Every payment pending, at a twentieth of each partition's limit: ~1,200 shards would be needed.
        var plan = CapacityPlanner.Plan(new TrafficProfile
        {
            PeakTransactionsPerSecond = 60_000, SpikeTransactionsPerSecond = 0, PendingShare = 1, TargetUtilization = 0.05, Organizations = 1_000,
        });
        Assert.Equal(ProLifeProsper.Api.Storage.DynamoDb.DynamoDbOptions.MaxWriteShards, plan.PartitionHeat.RecommendedWriteShards);
        Assert.Contains("\"WriteShards\": 1000", plan.RecommendedConfiguration);
        Assert.Contains(plan.PartitionHeat.PartitionsRecommended, p => p.Advice.Contains("the API takes at most 1,000", StringComparison.Ordinal));
    }

    [Fact]
    public void Small_platforms_have_no_hot_partition()
    {
        var plan = CapacityPlanner.Plan(new TrafficProfile { Organizations = 500, PeakTransactionsPerSecond = 100, SpikeTransactionsPerSecond = 50, MonthlyTransactions = 250_000 });
        Assert.All(plan.PartitionHeat.Partitions.Where(p => !p.PartitionKey.Contains("all shards together", StringComparison.Ordinal)), p => Assert.False(p.OverLimit));
        Assert.Empty(plan.PartitionHeat.OrganizationSplits);
        Assert.Equal(CostModel.OnDemand, plan.Cost.Recommended);
        Assert.Contains("<svg", CapacityReport.Html(plan));
    }
}

public sealed class CapacityApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task The_admin_endpoint_plans_a_profile_and_refuses_a_bad_one()
    {
        using var admin = factory.CreateAdminClient();
        var response = await admin.PostAsJsonAsync("/api/admin/capacity/plan", new { monthlyTransactions = 250_000, peakTransactionsPerSecond = 100, organizations = 500 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var plan = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("on-demand", (string)plan["cost"]!["recommended"]!);
        var expected = CapacityPlanner.Plan(new TrafficProfile { MonthlyTransactions = 250_000, PeakTransactionsPerSecond = 100, Organizations = 500 });
        Assert.Equal(expected.UnitsPerOperation[0].WriteUnits, (double)plan["unitsPerOperation"]![0]!["writeUnits"]!);
        Assert.Equal(expected.Cost.Pools.Sum(p => p.ProvisionedWriteCapacityUnits), (long)plan["provisionedThroughput"]!.AsObject().Sum(p => (long)p.Value!["writeCapacityUnits"]!));

        var bad = await admin.PostAsJsonAsync("/api/admin/capacity/plan", new { writeShards = 0 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        // A profile whose simulation would take minutes of CPU is refused before it starts.
        var huge = await admin.PostAsJsonAsync("/api/admin/capacity/plan", new { peakTransactionsPerSecond = 10_000_000, spikeTransactionsPerSecond = 10_000_000, organizations = 1 });
        Assert.Contains("at most 200,000", (await ProblemAssert.ReadAsync(huge, HttpStatusCode.BadRequest, "validation-failed")).ToJsonString());

        // Every field within its bound, their product not: refused as input (was a 500 from an overflowing sum).
        var product = await admin.PostAsJsonAsync("/api/admin/capacity/plan", new
        {
            monthlyTransactions = 1_000_000_000_000, peakTransactionsPerSecond = 200_000, spikeTransactionsPerSecond = 0, organizations = 1,
            campaignViewsPerPayment = 1_000, extraBytesPerPayment = 400_000, targetUtilization = 0.05,
        });
        Assert.Contains("beyond the", (await ProblemAssert.ReadAsync(product, HttpStatusCode.BadRequest, "validation-failed")).ToJsonString());

        var tenant = await TestTenant.CreateAsync(factory);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.Client.PostAsJsonAsync("/api/admin/capacity/plan", new { })).StatusCode);
    }

    [Fact]
    public void Campaign_views_read_one_aggregates_key_and_the_open_window_and_the_plan_says_when_a_cache_must_stand_in_front()
    {
        // A quiet organization (its largest at ~1.5 payments/s): kept totals of a year, and its last five minutes or so of payments.
        var quiet = CapacityPlanner.Plan(new TrafficProfile { Organizations = 500, MonthlyTransactions = 250_000, PeakTransactionsPerSecond = 10, SpikeTransactionsPerSecond = 0 });
        var v = quiet.CampaignViews;
        Assert.InRange(v.ReadUnitsPerView, 2, 40);
        var rate = quiet.PartitionHeat.LargestOrganizationTransactionsPerSecond;
        Assert.Equal(Math.Ceiling(rate * CapacityUnits.OpenWindow.TotalSeconds * quiet.ItemSizes.Payment / 4096.0), v.OpenWindowReadUnitsPerView);
        Assert.False(v.OverLimit, v.Advice);
        Assert.Equal(Math.Floor(Math.Min(3_000 / v.ReadUnitsPerView, 3_000 / v.OpenWindowReadUnitsPerView)), v.MostViewsPerSecond);
        // Page views are billed: the aggregates pool's reads, and the open windows' on the table beyond the operation's minimum.
        Assert.True(quiet.Cost.Pools.Single(p => p.Pool == "aggregates").ReadUnitsPerPayment > 0);
        var none = CapacityPlanner.Plan(new TrafficProfile { Organizations = 500, MonthlyTransactions = 250_000, PeakTransactionsPerSecond = 10, SpikeTransactionsPerSecond = 0, CampaignViewsPerPayment = 0 });
        Assert.True(quiet.Cost.Pools.Single(p => p.Pool == "transactions").ReadUnitsPerPayment > none.Cost.Pools.Single(p => p.Pool == "transactions").ReadUnitsPerPayment + 0.5,
            $"{quiet.Cost.Pools.Single(p => p.Pool == "transactions").ReadUnitsPerPayment} vs {none.Cost.Pools.Single(p => p.Pool == "transactions").ReadUnitsPerPayment}");
        Assert.Equal(0, none.CampaignViews.ReadUnitsPerSecond);
        Assert.False(none.CampaignViews.OverLimit);

        // The telethon: thousands of donations a second, as many views, each reading the last half hour of them.
        var telethon = CapacityPlanner.Plan(new TrafficProfile());
        Assert.True(telethon.CampaignViews.OverLimit);
        Assert.True(telethon.CampaignViews.OpenWindowReadUnitsPerSecond > telethon.CampaignViews.OpenWindowLimitReadUnitsPerSecond);
        Assert.Equal(Math.Round(telethon.PartitionHeat.LargestOrganizationTransactionsPerSecond), telethon.CampaignViews.ViewsPerSecond);
        Assert.Contains("cache", telethon.CampaignViews.Advice);
    }
}
