using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.Apis.Contracts;

namespace ProLifeProsper.Api.StoreMigration;

/// <summary>
/// Compares PostgreSQL and DynamoDB per organization: counts, sums of amounts per currency and status, and a
/// digest of every payment. A mismatch that a pending outbox row explains is re-checked after that row is
/// applied, and one whose payment has a newer write still queued is in flight, not a mismatch; what remains is
/// reported. The result is kept; cut-over requires a clean one and drains the outbox itself before switching.
/// </summary>
public sealed class MigrationVerifier(NpgsqlDataSource dataSource, PostgreSqlPaymentTransactionStore postgres,
    DynamoDbPaymentTransactionStore dynamo, OutboxDrainer drainer, PaymentOutbox outbox, RoutingStateCache routing,
    IOptions<MigrationOptions> options, MigrationMetrics metrics, TimeProvider time, ILogger<MigrationVerifier> logger)
{
    private const int MaxReported = 1_000;

    // One verification at a time per instance: each reads every payment of both stores, and an operator's retries (or the
    // reconciler beside an operator) must not multiply that. Another waits its turn (each answers with a comparison made after it asked).
    private readonly SemaphoreSlim _one = new(1, 1);

    public async Task<VerificationResult> VerifyAsync(CancellationToken cancellationToken)
    {
        await _one.WaitAsync(cancellationToken);
        try
        {
            return await RunAsync(cancellationToken);
        }
        finally
        {
            _one.Release();
        }
    }

    private async Task<VerificationResult> RunAsync(CancellationToken cancellationToken)
    {
        var started = UtcClock.Now(time);
        var version = routing.Current.Version;
        logger.LogInformation("Verification started (routing v{Version})", version);
        await CatchUpAsync(cancellationToken);

        var organizations = await OrganizationsAsync(cancellationToken);
        logger.LogInformation("Comparing {Count} organizations", organizations.Count);
        var mismatches = new List<VerificationMismatch>();
        long payments = 0;
        foreach (var organization in organizations)
        {
            var (count, found, tooMany) = await CompareAsync(organization, cancellationToken);
            payments += count;
            if (found.Count == 0) continue;
            // Writes in flight when the pages were read: recheck each differing payment on its own, applying the
            // outbox in between. One whose newer write is still queued for DynamoDB is in flight, not a mismatch
            // (cut-over drains the outbox anyway); one that still differs after that is reported.
            var real = new List<VerificationMismatch>();
            foreach (var item in found.Where(m => m.TransactionId is not null))
                if (!await SettlesAsync(organization, item.TransactionId!.Value, cancellationToken)) real.Add(item);
            if (real.Count > 0 || tooMany) mismatches.AddRange(real.Concat(found.Where(m => m.TransactionId is null)));
        }

        var pending = (await outbox.DepthAsync(cancellationToken))[DynamoDbPaymentTransactionStore.StoreName];
        var result = new VerificationResult(Guid.CreateVersion7(), started, UtcClock.Now(time), version, organizations.Count, payments,
            pending, mismatches.Count == 0, mismatches.Take(MaxReported).ToList());
        await SaveAsync(result, mismatches.Count, cancellationToken);
        logger.LogInformation("Verification {Outcome}: {Payments} payments, {Mismatches} mismatches, {Pending} pending writes",
            result.Clean ? "clean" : "NOT clean", payments, mismatches.Count, pending);
        metrics.Verified(mismatches.Count);
        return result;
    }

    public async Task<VerificationResult?> LastAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id, started_at, completed_at, routing_version, organizations, payments, pending_outbox, clean, mismatches_json " +
            "FROM migration_verifications ORDER BY completed_at DESC LIMIT 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new VerificationResult(reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetFieldValue<DateTimeOffset>(2),
            reader.GetInt64(3), reader.GetInt32(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetBoolean(7),
            JsonSerializer.Deserialize<List<VerificationMismatch>>(reader.GetString(8), JsonSerializerOptions.Web) ?? []);
    }

    /// <summary>A digest of everything a payment is, identical for equal payments whichever store holds them.</summary>
    public static string Digest(PaymentTransaction p) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(PaymentSnapshotJson.Serialize(p))));

    /// <summary>
    /// Walks both stores' lists of the organization side by side, page by page (both list newest first by creation time,
    /// then id), so memory holds two pages and the differences, not the organization's history twice over.
    /// </summary>
    private async Task<(long Count, List<VerificationMismatch> Mismatches, bool TooMany)> CompareAsync(Guid organization, CancellationToken cancellationToken)
    {
        var found = new List<VerificationMismatch>();
        var (pgSums, dynamoSums) = (new Sums(), new Sums());
        var (pgCount, dynamoCount) = (0L, 0L);
        long beyondCap = 0;
        void Found(VerificationMismatch mismatch)
        {
            if (found.Count < MaxPerOrganization) found.Add(mismatch);
            else beyondCap++;
        }

        await using var inPostgres = ListAllAsync(postgres, organization, cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using var inDynamo = ListAllAsync(dynamo, organization, cancellationToken).GetAsyncEnumerator(cancellationToken);
        var (pg, dy) = (await NextAsync(inPostgres), await NextAsync(inDynamo));
        while (pg is not null || dy is not null)
        {
            var order = pg is null ? 1 : dy is null ? -1 : NewestFirst(pg, dy);
            if (order <= 0) { pgCount++; pgSums.Add(pg!); }
            if (order >= 0) { dynamoCount++; dynamoSums.Add(dy!); }
            if (order < 0) Found(new(organization, "missing_in_dynamodb", pg!.TransactionId, $"version {pg.Version}"));
            else if (order > 0) Found(new(organization, "missing_in_postgresql", dy!.TransactionId, $"version {dy.Version}"));
            else if (Digest(pg!) != Digest(dy!))
                Found(new(organization, "different", pg!.TransactionId, $"postgresql v{pg.Version} {pg.Status.ToWire()}, dynamodb v{dy!.Version} {dy.Status.ToWire()}"));
            if (order <= 0) pg = await NextAsync(inPostgres);
            if (order >= 0) dy = await NextAsync(inDynamo);
        }

        if (pgCount != dynamoCount)
            found.Insert(0, new(organization, "count", null, $"postgresql has {pgCount} payments, dynamodb {dynamoCount}"));
        // Differences not kept cannot be checked again one by one: the organization is not clean, whatever the kept ones show.
        if (beyondCap > 0)
            found.Insert(0, new(organization, "too_many_differences", null, $"{beyondCap} more differing payments than the {MaxPerOrganization} listed; verify again once writes have settled"));
        foreach (var (key, pgSum) in pgSums.ByCurrencyAndStatus)
        {
            var dynamoSum = dynamoSums.ByCurrencyAndStatus.GetValueOrDefault(key);
            if (dynamoSum != pgSum) found.Add(new(organization, "sum", null, $"{key.Currency}/{key.Status}: postgresql {pgSum}, dynamodb {dynamoSum}"));
        }
        return (pgCount, found, beyondCap > 0);

        static async Task<PaymentTransaction?> NextAsync(IAsyncEnumerator<PaymentTransaction> payments) =>
            await payments.MoveNextAsync() ? payments.Current : null;
    }

    /// <summary>At most this many differing payments of one organization are kept (each is checked again on its own); beyond it the organization is not clean.</summary>
    private const int MaxPerOrganization = 10_000;

    // The order both stores list in: newest first, then the larger id (Guid compares as its canonical text, as PostgreSQL's uuid and DynamoDB's key do).
    private static int NewestFirst(PaymentTransaction a, PaymentTransaction b)
    {
        var byTime = b.CreatedAt.CompareTo(a.CreatedAt);
        return byTime != 0 ? byTime : b.TransactionId.CompareTo(a.TransactionId);
    }

    /// <summary>Count and sums per currency and status, in Int128: an organization's sums may pass a long's range.</summary>
    private sealed class Sums
    {
        public Dictionary<(string Currency, string Status), (long Count, Int128 Amount, Int128 Refunded)> ByCurrencyAndStatus { get; } = [];

        public void Add(PaymentTransaction p)
        {
            var key = (p.Currency, p.Status.ToWire());
            var (count, amount, refunded) = ByCurrencyAndStatus.GetValueOrDefault(key);
            ByCurrencyAndStatus[key] = (count + 1, amount + p.AmountMinor, refunded + p.RefundedAmountMinor);
        }
    }

    private static async IAsyncEnumerable<PaymentTransaction> ListAllAsync(IPaymentTransactionStore store, Guid organization,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        PageCursor? cursor = null;
        do
        {
            var page = await store.ListAsync(new PaymentListQuery(organization, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, null, PaymentListQuery.MaxLimit, cursor), cancellationToken);
            foreach (var payment in page.Items) yield return payment;
            cursor = page.Next;
        }
        while (cursor is not null);
    }

    /// <summary>
    /// Brings DynamoDB up to every write queued when the verification starts before comparing: rows waiting out a retry
    /// delay are tried now, and rows another instance's drainer holds are waited for (up to
    /// <see cref="MigrationOptions.VerifyCatchUpTimeout"/>). Without it, a shadow that is merely behind (a DynamoDB fault
    /// put its rows in backoff; a slow drain held them) was reported as missing payments.
    /// </summary>
    private async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        const string target = DynamoDbPaymentTransactionStore.StoreName;
        var upTo = await outbox.LastIdAsync(cancellationToken);
        // A deadline, not a check between drains: a drain against a DynamoDB that does not answer could take far longer.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // At least a drain's lease: rows a killed drainer (or a failed batch) holds come free only when it ends.
        var timeout = TimeSpan.FromTicks(Math.Max(options.Value.VerifyCatchUpTimeout.Ticks, (outbox.Lease.Duration + TimeSpan.FromSeconds(5)).Ticks));
        deadline.CancelAfter(timeout);
        try
        {
            while (true)
            {
                await drainer.DrainNowAsync(target, deadline.Token, ignoreBackoff: true, upTo);
                if (await outbox.CountAsync(target, upTo, deadline.Token) == 0) return;
                await Task.Delay(200, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Writes queued for DynamoDB before the verification did not all arrive within {Timeout} s; comparing anyway",
                timeout.TotalSeconds);
        }
    }

    // A payment that differs when the pages were read settles if the stores agree on it after the outbox is applied. One
    // that DynamoDB is merely behind on (missing, or an older version) while its write is still queued is in flight:
    // applying that write is exactly what cut-over does under the routing lock, refusing while any row remains. Any other
    // difference (DynamoDB ahead, or equal versions that differ) a queued copy cannot mend: a mismatch.
    private async Task<bool> SettlesAsync(Guid organization, Guid transactionId, CancellationToken cancellationToken)
    {
        var inFlight = false;
        for (var round = 0; round < 10; round++)
        {
            await drainer.DrainNowAsync(DynamoDbPaymentTransactionStore.StoreName, cancellationToken);
            var inPostgres = await postgres.GetAsync(organization, transactionId, cancellationToken);
            var inDynamo = await dynamo.GetAsync(organization, transactionId, cancellationToken);
            if (inPostgres == inDynamo) return true;
            var dynamoBehind = inPostgres is not null && (inDynamo is null || inDynamo.Version < inPostgres.Version);
            if (!dynamoBehind) return false;
            inFlight = await IsQueuedAsync(organization, transactionId, cancellationToken);
            await Task.Delay(50, cancellationToken);
        }
        if (inFlight) logger.LogInformation("Payment {TransactionId} is behind in DynamoDB with its write still queued: in flight, not a mismatch", transactionId);
        return inFlight;
    }

    // Is a write of this payment still waiting in the outbox for DynamoDB?
    private async Task<bool> IsQueuedAsync(Guid organization, Guid transactionId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT EXISTS (SELECT 1 FROM payment_outbox WHERE transaction_id = $1 AND organization_id = $2 AND target = $3)");
        command.Parameters.Add(new() { Value = transactionId });
        command.Parameters.Add(new() { Value = organization });
        command.Parameters.Add(new() { Value = DynamoDbPaymentTransactionStore.StoreName });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private async Task<IReadOnlyList<Guid>> OrganizationsAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT id FROM organizations UNION SELECT DISTINCT organization_id FROM payment_transactions");
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetGuid(0));
        return ids;
    }

    private async Task SaveAsync(VerificationResult result, int mismatchCount, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO migration_verifications (id, started_at, completed_at, routing_version, organizations, payments, mismatch_count, pending_outbox, clean, mismatches_json) " +
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)");
        foreach (var value in new object[] { result.Id, result.StartedAt, result.CompletedAt, result.RoutingVersion, result.Organizations, result.Payments,
                     mismatchCount, result.PendingOutbox, result.Clean, JsonSerializer.Serialize(result.Mismatches, JsonSerializerOptions.Web) })
            command.Parameters.Add(new() { Value = value });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
