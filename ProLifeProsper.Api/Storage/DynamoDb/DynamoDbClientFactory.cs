using Amazon;
using Amazon.DynamoDBv2;
using Amazon.Runtime;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Builds the DynamoDB client the AWS way: region from <c>AWS_REGION</c> (or the profile), endpoint from
/// <c>AWS_ENDPOINT_URL_DYNAMODB</c> for a local server, credentials from the standard chain.
/// <see cref="DynamoDbOptions.ServiceUrl"/>/<see cref="DynamoDbOptions.Region"/> override them for this process.
/// </summary>
public static class DynamoDbClientFactory
{
    /// <param name="options">Endpoint and region overrides.</param>
    /// <param name="httpClientFactory">Where the SDK gets its HttpClients; null for its own (tests put a fault-injecting one here).</param>
    public static IAmazonDynamoDB Create(DynamoDbOptions options, HttpClientFactory? httpClientFactory = null)
    {
        var config = new AmazonDynamoDBConfig
        {
            HttpClientFactory = httpClientFactory,
            // DynamoDbCaller retries (and counts) throttling and lost connections itself. The SDK would otherwise
            // retry a reset pooled connection up to 10 times unseen, outside MaxErrorRetry.
            MaxErrorRetry = 0,
            MaxStaleConnectionRetries = 0,
            Timeout = TimeSpan.FromSeconds(10),
        };
        if (!string.IsNullOrEmpty(options.Region)) config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        if (!string.IsNullOrEmpty(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region ?? "us-east-1";
            // A local server (dynalite) accepts any credentials; don't probe EC2 metadata for them.
            if (Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is null)
                return new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"), config);
        }
        // A PostgreSQL-only deployment need not configure AWS at all: the client then exists but is never called
        // until a migration starts (which checks DynamoDB answers first).
        if (config.RegionEndpoint is null && config.ServiceURL is null && FallbackRegionFactory.GetRegionEndpoint() is null)
            config.RegionEndpoint = RegionEndpoint.USEast1;
        return new AmazonDynamoDBClient(config);
    }
}
