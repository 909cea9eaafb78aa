using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ProLifeProsper.Api.Infrastructure.Telemetry;

namespace ProLifeProsper.Api.Storage.DynamoDb;

/// <summary>
/// Creates whose key was claimed (the donor is charged, the record holds the payment) but whose payment item could not be
/// written: DynamoDB throttled or failed past the write's retries and time-out. The client is told 503 and is expected to
/// retry, which finishes the create; a client that never does (gave up, crashed) would leave the charge out of the
/// organization's payments for good. So the instance finishes it itself, in the background, exactly as a retry with the key
/// would (<see cref="DynamoDbPaymentTransactionStore.FindIdempotencyRecordAsync"/>: a conditional put of the payment the
/// record holds, so it can neither double it nor overwrite a later change), with backoff until DynamoDB takes it.
/// <para>
/// Held in memory: a crash of the instance meanwhile leaves the create to the client's retry, as before (logged at
/// shutdown). A late finish is as safe as a late retry: a rollback's reverse copy finishes every record before it copies
/// payments, so whichever comes first writes the payment and the other finds it there.
/// </para>
/// </summary>
public sealed class UnfinishedCreates : IDisposable
{
    /// <summary>At most this many held at once (each is a timer and a key); beyond it a create is left to its client's retry, and logged.</summary>
    public const int MaxHeld = 10_000;

    /// <summary>Finishes tried at once: after an outage thousands may be held, and must not all hit a DynamoDB just recovering.</summary>
    public const int ConcurrentFinishes = 8;

    private static readonly TimeSpan FirstWait = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestWait = TimeSpan.FromMinutes(1);

    /// <summary>Stripe keeps a key for 24 hours: past that a retry is not expected either, and an operator must look.</summary>
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromHours(24);

    private readonly ConcurrentDictionary<(Guid OrganizationId, string Key), byte> _held = new();
    private readonly SemaphoreSlim _finishing = new(ConcurrentFinishes);
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _stop;
    private readonly TimeProvider _time;
    private readonly ILogger<UnfinishedCreates> _logger;
    private readonly Counter<long>? _outcomes;

    public UnfinishedCreates(TimeProvider time, ILogger<UnfinishedCreates> logger, IMeterFactory? meters = null)
    {
        _time = time;
        _logger = logger;
        _stop = _stopping.Token;
        if (meters?.Create(ApiTelemetry.Name) is not { } meter) return;
        _outcomes = meter.CreateCounter<long>("prolifeprosper.store.unfinished_creates", "{create}",
            "Creates whose payment item failed after their key was claimed, by outcome: held (to be finished in the background), finished, abandoned.");
        meter.CreateObservableGauge("prolifeprosper.store.unfinished_creates.held", () => _held.Count, "{create}",
            "Creates whose payment item this instance is still trying to write.");
    }

    /// <summary>How many creates this instance is still finishing.</summary>
    public int Count => _held.Count;

    /// <summary>Finishes the create of <paramref name="key"/> in the background with <paramref name="finish"/>, retried with backoff.</summary>
    public void Hold(Guid organizationId, string key, Func<CancellationToken, Task> finish)
    {
        if (!_held.TryAdd((organizationId, key), 0)) return; // already held
        if (_stop.IsCancellationRequested || _held.Count > MaxHeld)
        {
            _held.TryRemove((organizationId, key), out _);
            _logger.LogError("Create {Key} of organization {OrganizationId} is charged but its payment item is not written, and this instance cannot hold it "
                + "({Reason}): it appears when the client retries with this key", key, organizationId, _stop.IsCancellationRequested ? "stopping" : $"{MaxHeld} held already");
            Record("abandoned");
            return;
        }
        Record("held");
        // Not the request's context: its trace and its cancellation end with it.
        using (ExecutionContext.SuppressFlow()) _ = Task.Run(() => FinishAsync(organizationId, key, finish));
    }

    private async Task FinishAsync(Guid organizationId, string key, Func<CancellationToken, Task> finish)
    {
        var since = _time.GetTimestamp();
        var wait = FirstWait;
        try
        {
            while (true)
            {
                // Jittered: creates held together by one outage do not all come back at the same moment.
                await Task.Delay(wait * (0.5 + Random.Shared.NextDouble()), _time, _stop);
                await _finishing.WaitAsync(_stop);
                try
                {
                    await finish(_stop);
                    _logger.LogInformation("Create {Key} of organization {OrganizationId} finished in the background: its payment is written", key, organizationId);
                    Record("finished");
                    return;
                }
                catch (Exception e) when (!_stop.IsCancellationRequested)
                {
                    if (_time.GetElapsedTime(since) >= GiveUpAfter)
                    {
                        _logger.LogError(e, "Create {Key} of organization {OrganizationId} is charged but its payment item could not be written for {Hours} hours; "
                            + "it appears when a request with this key is retried", key, organizationId, GiveUpAfter.TotalHours);
                        Record("abandoned");
                        return;
                    }
                    _logger.LogWarning(e, "Create {Key} of organization {OrganizationId}: its payment item is still not written; trying again in about {Wait}", key, organizationId, wait);
                    wait = wait * 2 < LongestWait ? wait * 2 : LongestWait;
                }
                finally
                {
                    _finishing.Release();
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            _logger.LogError("Shutting down with create {Key} of organization {OrganizationId} charged but its payment item not written: "
                + "it appears when the client retries with this key", key, organizationId);
        }
        catch (Exception e)
        {
            // Nothing may escape a background task; this one is left to the client's retry.
            _logger.LogError(e, "Finishing create {Key} of organization {OrganizationId} failed", key, organizationId);
        }
        finally
        {
            _held.TryRemove((organizationId, key), out _);
        }
    }

    private void Record(string outcome) => _outcomes?.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    // Cancelled, not disposed: background finishes still read the token as they end.
    public void Dispose() => _stopping.Cancel();
}
