using ProLifeProsper.LocalInfrastructure;
using ProLifeProsper.Api.Routing;

namespace ProLifeProsper.Api.Tests.Infrastructure;

/// <summary>The API in the <c>highScale</c> configuration: payments on (real) dynalite, the rest on PostgreSQL.</summary>
public class HighScaleApiFactory : ApiFactory
{
    private string _serviceUrl = "";

    public string TablePrefix { get; } = DynaliteServer.NewTablePrefix("api");

    protected override string RoutingConfiguration => "highScale";

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("DynamoDb:ServiceUrl", _serviceUrl),
        new("DynamoDb:TablePrefix", TablePrefix),
        new("DynamoDb:CreateTablesOnStartup", "true"),
        new("DynamoDb:WriteShards", "4"),
    ];

    public override async Task InitializeAsync()
    {
        _serviceUrl = (await DynaliteServer.GetAsync()).ServiceUrl;
        await base.InitializeAsync();
    }
}
