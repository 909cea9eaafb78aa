using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Work whose spans are not worth recording (a background poll that only looks, a health probe): while a scope is open in
/// the calling flow, <see cref="UntracedAwareSampler"/> drops every span started in it, of any source (Npgsql, HttpClient,
/// the app's). Unlike OpenTelemetry's SuppressInstrumentationScope it touches spans only: logs and metrics of that work
/// are still exported, so a poll that fails is still seen.
/// </summary>
public static class Untraced
{
    private static readonly AsyncLocal<bool> Active = new();

    public static bool IsActive => Active.Value;

    /// <summary>Drops spans in the calling flow until disposed (<paramref name="untraced"/> false: records them again inside an untraced flow).</summary>
    public static IDisposable Begin(bool untraced = true)
    {
        var previous = Active.Value;
        Active.Value = untraced;
        return new Restore(previous);
    }

    private sealed class Restore(bool previous) : IDisposable
    {
        public void Dispose() => Active.Value = previous;
    }
}

/// <summary>
/// Parent-based always-on sampling (a caller's W3C "not sampled" is honoured, so its request and everything under it is
/// not recorded), except that nothing is recorded inside an <see cref="Untraced"/> scope.
/// </summary>
public sealed class UntracedAwareSampler : Sampler
{
    private static readonly Sampler Inner = new ParentBasedSampler(new AlwaysOnSampler());

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        Untraced.IsActive ? new SamplingResult(SamplingDecision.Drop) : Inner.ShouldSample(samplingParameters);
}
