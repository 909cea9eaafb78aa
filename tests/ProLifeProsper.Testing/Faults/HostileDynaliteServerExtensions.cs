using Amazon.DynamoDBv2;
using ProLifeProsper.LocalInfrastructure;

namespace ProLifeProsper.Testing.Faults;

public static class HostileDynaliteServerExtensions
{
    /// <summary>A client of <paramref name="server"/> whose every request goes through <paramref name="hostile"/> (throttles, lost answers, ...).</summary>
    public static IAmazonDynamoDB CreateClient(this DynaliteServer server, HostileDynamoDb hostile) => hostile.CreateClient(server.ServiceUrl);
}
