using Microsoft.AspNetCore.Hosting;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Telemetry;

/// <summary>The API on DynamoDB (<c>highScale</c>), its recorded spans in <see cref="Spans"/>.</summary>
public sealed class TracedHighScaleApiFactory : HighScaleApiFactory
{
    public RecordedSpans Spans { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        Spans.AddTo(builder);
    }
}
