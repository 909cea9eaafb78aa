namespace ProLifeProsper.Api.Capacity;

/// <summary>
/// Prices, as inputs with their defaults. Defaults: Amazon DynamoDB and Amazon RDS for PostgreSQL list prices for
/// us-east-1 (N. Virginia), on-demand figures after AWS's November 2024 reduction, as recorded on 2026-11-25 from
/// the AWS pricing pages (aws.amazon.com/dynamodb/pricing, aws.amazon.com/rds/postgresql/pricing). They were not
/// re-read from the network when written: check the current page and pass your own before deciding.
/// </summary>
public sealed record CapacityPrices
{
    public const string AsOf = "2026-11-25";
    public const string Source = "AWS list prices, us-east-1: aws.amazon.com/dynamodb/pricing and aws.amazon.com/rds/postgresql/pricing";

    /// <summary>On-demand: USD per million write request units.</summary>
    public decimal OnDemandWritePerMillion { get; init; } = 0.625m;

    /// <summary>On-demand: USD per million read request units.</summary>
    public decimal OnDemandReadPerMillion { get; init; } = 0.125m;

    /// <summary>Provisioned: USD per WCU-hour.</summary>
    public decimal ProvisionedWcuHour { get; init; } = 0.00065m;

    /// <summary>Provisioned: USD per RCU-hour.</summary>
    public decimal ProvisionedRcuHour { get; init; } = 0.00013m;

    /// <summary>Reserved capacity, 1-year term, per 100 WCU: upfront USD and hourly USD.</summary>
    public decimal ReservedWcu100Upfront { get; init; } = 150m;
    public decimal ReservedWcu100Hour { get; init; } = 0.0128m;

    /// <summary>Reserved capacity, 1-year term, per 100 RCU: upfront USD and hourly USD.</summary>
    public decimal ReservedRcu100Upfront { get; init; } = 30m;
    public decimal ReservedRcu100Hour { get; init; } = 0.0025m;

    /// <summary>Standard table class storage, USD per GB-month (the first 25 GB are free).</summary>
    public decimal StoragePerGbMonth { get; init; } = 0.25m;
    public decimal FreeStorageGb { get; init; } = 25m;

    /// <summary>PostgreSQL for comparison: RDS db.r6g.xlarge Multi-AZ, USD per hour, and gp3 storage per GB-month.</summary>
    public decimal PostgresInstanceHour { get; init; } = 0.898m;
    public decimal PostgresStoragePerGbMonth { get; init; } = 0.23m;

    public const decimal HoursPerMonth = 730m;
}
