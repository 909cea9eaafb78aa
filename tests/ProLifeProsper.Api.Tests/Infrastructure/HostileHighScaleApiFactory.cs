using Amazon.DynamoDBv2;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Testing.Faults;

namespace ProLifeProsper.Api.Tests.Infrastructure;

/// <summary>
/// The API in the <c>highScale</c> configuration with payments on a hostile DynamoDB: the API's own client
/// (<see cref="DynamoDbClientFactory"/>'s configuration) with every request going through the fault handler.
/// Index lag is off: the API tests read indexes (pending, hourly) right after writing.
/// </summary>
public sealed class HostileHighScaleApiFactory : HighScaleApiFactory
{
    public const int Seed = 4_242;

    public HostileDynamoDb Hostile { get; } = new(HostileDynamoDbProfile.Hostile(Seed) with { MaxIndexLag = TimeSpan.Zero });

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [.. base.ExtraSettings(), new("DynamoDb:MaxRetries", "20")];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        // Registered last, so it replaces the API's client.
        builder.ConfigureTestServices(services => services.AddSingleton<IAmazonDynamoDB>(sp =>
            DynamoDbClientFactory.Create(sp.GetRequiredService<IOptions<DynamoDbOptions>>().Value, Hostile.HttpClientFactory)));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Hostile.Dispose();
    }
}
