using Microsoft.AspNetCore.Hosting;
using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Telemetry;

/// <summary>The API on PostgreSQL (<c>current</c>), its recorded spans in <see cref="Spans"/>.</summary>
public sealed class TracedApiFactory : ApiFactory
{
    public RecordedSpans Spans { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        Spans.AddTo(builder);
    }
}
