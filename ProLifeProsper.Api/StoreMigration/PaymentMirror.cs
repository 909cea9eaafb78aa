using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;
using ProLifeProsper.Api.Routing;
using ProLifeProsper.Api.Infrastructure.Rows;

namespace ProLifeProsper.Api.StoreMigration;

/// <summary>
/// Applies one outbox row: copies the payment (and its idempotency record) from the store that took the write
/// to the other one, version-conditionally, so a copy never replaces a newer state.
/// </summary>
public sealed class PaymentMirror(PostgreSqlPaymentTransactionStore postgres, DynamoDbPaymentTransactionStore dynamo,
    IOptions<MigrationOptions> options, IOptions<DynamoDbOptions> dynamoOptions, MigrationMetrics metrics, ILogger<PaymentMirror> logger)
{
    /// <summary>
    /// Applies, in a few requests for the whole claim, the rows that carry a new payment to DynamoDB (PostgreSQL primary:
    /// most of the outbox while migrating): one PostgreSQL read for all of them, then the payments and their records put 25
    /// to a <c>BatchWriteItem</c> instead of two conditional writes each. Returns the outcome of each row it took; the
    /// others (updates, copies home) are left to <see cref="ApplyAsync"/>.
    /// <para>
    /// A put has no condition; it is safe here because of what such a row is. It is written in the very transaction that
    /// creates the payment in PostgreSQL, in a phase where PostgreSQL is the source of truth: the id was born there, so
    /// DynamoDB can hold no version of it but PostgreSQL's copies (the backfill's, an earlier drain's: the same item), and
    /// a record under its key in DynamoDB can only be stale (a claim an unfinished DynamoDB write left behind in an earlier
    /// stint, its payment never acknowledged): PostgreSQL's record is the one in effect. Only the payment's version 1 is put;
    /// if PostgreSQL moved the payment on while it was being put, the put may have landed after the newer copy: PostgreSQL
    /// is asked again afterwards and those rows are retried, when the per-row copy (conditional on the version) brings
    /// DynamoDB to the newest. A put whose outcome is unknown is never sent again (no retry whose answer could come before an
    /// earlier attempt lands), and every put is sent under the claim's lease (<see cref="OutboxLease"/>): within
    /// <see cref="OutboxLease.SendWithin"/> of the claim, each request leaving within <see cref="DynamoDbOptions.WriteTimeout"/>.
    /// After any failure the rows keep their lease (<see cref="OutboxOutcome.InFlight"/>) and so stay in the outbox until no
    /// put of this call can land, hence before any cut-over (which needs the outbox empty) and before another drain copies
    /// them again. A process killed with a put in flight leaves its lease behind just the same. A row whose batch failed is
    /// applied on its own the next time.
    /// </para>
    /// </summary>
    public async Task<IReadOnlyDictionary<long, (OutboxOutcome Outcome, string? Error)>> ApplyNewPaymentsAsync(IReadOnlyList<OutboxRow> rows, CancellationToken cancellationToken)
    {
        var outcomes = new Dictionary<long, (OutboxOutcome, string?)>();
        // A row whose batch failed before is applied on its own (conditional writes): one bad item cannot hold back a batch.
        var candidates = rows.Where(r => r.Target == DynamoDbPaymentTransactionStore.StoreName && r.ExpectedVersion == 1 && r.Attempts == 0).ToList();
        if (candidates.Count == 0) return outcomes;

        var ids = candidates.Select(r => r.TransactionId).Distinct().ToList();
        var keys = candidates.Where(r => r.IdempotencyKey is not null).Select(r => (r.OrganizationId, r.IdempotencyKey!)).Distinct().ToList();
        var (payments, records) = await postgres.ReadForCopyAsync(ids, keys, cancellationToken);
        var taken = new List<OutboxRow>();
        foreach (var row in candidates)
        {
            if (!payments.TryGetValue(row.TransactionId, out var payment) || payment.OrganizationId != row.OrganizationId)
                outcomes[row.Id] = (OutboxOutcome.Done, null); // never written: nothing to carry (as ApplyAsync decides)
            else if (payment.Version == 1) taken.Add(row);
            // else: updated since, left to the conditional per-row copy
        }
        if (taken.Count == 0) return outcomes;

        var copies = taken.Select(r => payments[r.TransactionId]).DistinctBy(p => p.TransactionId).ToList();
        var recordCopies = taken.Where(r => r.IdempotencyKey is not null)
            .Select(r => records.GetValueOrDefault((r.OrganizationId, r.IdempotencyKey!))).OfType<IdempotencyRecord>()
            .DistinctBy(r => (r.OrganizationId, r.Key)).ToList();
        var items = await dynamo.CopyItemsAsync(copies, recordCopies, cancellationToken);
        // Only under a lease with time left to send: a claim without one (a locked drain), or one held up past SendWithin
        // (a pause), sends nothing, and its rows are simply tried again.
        if (taken.Any(r => r.SendBy is not { } sendBy || System.Diagnostics.Stopwatch.GetTimestamp() > sendBy))
        {
            foreach (var row in taken) outcomes[row.Id] = (OutboxOutcome.Retry, "the claim's time to send ran out before the copy was sent");
            return outcomes;
        }
        // The puts leave within the write time-out, and are not cut short by the caller (shutdown, a deadline): a request
        // abandoned early could still land after its rows were settled.
        using var bound = new CancellationTokenSource(dynamoOptions.Value.WriteTimeout);
        // Checked again before each request leaves: a pause after this point (past the lease) sends nothing when it ends.
        var sendBy = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(dynamoOptions.Value.WriteTimeout.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        foreach (var row in taken) row.PutSent = true; // from here on, a drain cut off keeps these rows' lease
        try
        {
            await dynamo.PutCopiesAsync(items, sendBy, bound.Token);
        }
        catch (Exception e)
        {
            // Some of it may be applied, or still on its way: the rows keep their lease until no put of this call can land.
            var error = $"{e.GetType().Name}: {e.Message}";
            foreach (var row in taken) outcomes[row.Id] = (OutboxOutcome.InFlight, error);
            return outcomes;
        }

        var now = await postgres.VersionsAsync(copies.Select(p => p.TransactionId).ToList(), cancellationToken);
        foreach (var row in taken)
        {
            if (now.GetValueOrDefault(row.TransactionId, 1) > 1)
            {
                outcomes[row.Id] = (OutboxOutcome.Retry, "updated while being copied; copied again by version");
                continue;
            }
            outcomes[row.Id] = (OutboxOutcome.Done, null);
            metrics.Mirrored(row.Target);
        }
        return outcomes;
    }

    public async Task<OutboxOutcome> ApplyAsync(OutboxRow row, CancellationToken cancellationToken)
    {
        var toDynamo = row.Target == DynamoDbPaymentTransactionStore.StoreName;
        IPaymentTransactionStore source = toDynamo ? postgres : dynamo;
        var payment = await source.GetAsync(row.OrganizationId, row.TransactionId, cancellationToken);
        // An update of a payment DynamoDB does not hold: its record cannot be finished (there is nothing to apply it to), and
        // looking it up answered "in flight" on every attempt, so the row never reached the judgement below. Left alone.
        var paymentGone = !toDynamo && payment is null && row.ExpectedVersion > 1;
        if (!toDynamo && !paymentGone && (payment is null || payment.Version < row.ExpectedVersion) && row.IdempotencyKey is { } key)
        {
            // The DynamoDB write may have claimed its key and been cut off before its change (the writer timed out, lost
            // the answer, or died): finish it from the record, exactly as a retry with that key would, then look again.
            var record = await dynamo.FindIdempotencyRecordAsync(row.OrganizationId, key, cancellationToken);
            if (record is not null && row.ExpectedVersion == 1 && record.ResourceId != row.TransactionId)
            {
                // This create lost its key to an earlier request: nothing of it will ever be written. Bring the winner home.
                if (await dynamo.GetAsync(row.OrganizationId, record.ResourceId, cancellationToken) is { } winner) await CopyAsync(winner, toDynamo, cancellationToken);
                await CopyRecordAsync(record, toDynamo, cancellationToken);
                return OutboxOutcome.Done;
            }
            if (record is not null) payment = await dynamo.GetAsync(row.OrganizationId, row.TransactionId, cancellationToken);
        }
        if (payment is null || payment.Version < row.ExpectedVersion)
        {
            if (paymentGone && row.Age > options.Value.IntentGrace)
            {
                // An update was written against this payment in DynamoDB, which no longer has the payment at all: it lost data
                // (a table recreated, restored, or a local DynamoDB restarted empty, after a fail-over). Whether the update
                // was acknowledged (a refund paid out) cannot be known here. Dropping the intent would let PostgreSQL take a
                // refund of this payment past what may have been paid, so the intent stays, and the payment stays refused, for
                // an operator (docs/migration.md, "DynamoDB came back without its data").
                if (row.Attempts % 60 == 0)
                    logger.LogError("DynamoDB no longer holds payment {TransactionId} of organization {OrganizationId}, which a write to version {Version} was made against; " +
                        "its intent is kept and the payment refused until an operator settles it", row.TransactionId, row.OrganizationId, row.ExpectedVersion);
                throw new InvalidOperationException(
                    $"DynamoDB no longer holds payment {row.TransactionId}, which a write to version {row.ExpectedVersion} was made against: kept for an operator.");
            }
            // The source does not have the write yet. A PostgreSQL-primary row is written with its write, so that
            // cannot last; a DynamoDB intent whose write never came within the grace (longer than any write can take,
            // its retries included) was never acknowledged.
            // Measured by the database's clock, which stamped the row: an API clock running ahead must not expire intents early.
            return toDynamo || row.Age > options.Value.IntentGrace ? OutboxOutcome.Done : OutboxOutcome.Retry;
        }

        await CopyAsync(payment, toDynamo, cancellationToken);
        if (row.IdempotencyKey is { } recordKey && await source.FindIdempotencyRecordAsync(row.OrganizationId, recordKey, cancellationToken) is { } inEffect)
            await CopyRecordAsync(inEffect, toDynamo, cancellationToken);
        metrics.Mirrored(row.Target);
        return OutboxOutcome.Done;
    }

    /// <summary>
    /// Copies a payment version-conditionally. PostgreSQL keeps one payment per idempotency key: a copy that would be a
    /// second payment for a key is refused, counted and logged (it means a create slipped past the in-flight check).
    /// </summary>
    public async Task<bool> CopyAsync(PaymentTransaction payment, bool toDynamo, CancellationToken cancellationToken)
    {
        if (toDynamo) return await dynamo.CopyAsync(payment, cancellationToken);
        try
        {
            return await postgres.CopyAsync(payment, cancellationToken);
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation
            && e.ConstraintName == Infrastructure.EntityConfigurations.PaymentTransactionConfiguration.UniqueKeyIndex)
        {
            // The same payment inserted meanwhile (the writer's own shadow copy, or another copy of it racing this one) is no
            // second payment. It may be an older version than this one, so the copy is made once more, now as an update of the
            // row that exists: answering "done" here would leave PostgreSQL at the older version for good (a refund it does not
            // know of could be paid again after a rollback).
            if (await postgres.GetAsync(payment.OrganizationId, payment.TransactionId, cancellationToken) is not null)
                return await postgres.CopyAsync(payment, cancellationToken);
            metrics.DuplicateRefused();
            logger.LogError("Payment {TransactionId} was not copied to PostgreSQL: another payment already holds idempotency key '{Key}' of organization {OrganizationId}",
                payment.TransactionId, payment.IdempotencyKey, payment.OrganizationId);
            return false;
        }
    }

    public Task CopyRecordAsync(IdempotencyRecord record, bool toDynamo, CancellationToken cancellationToken) =>
        toDynamo ? dynamo.CopyIdempotencyRecordAsync(record, cancellationToken) : postgres.CopyIdempotencyRecordAsync(record, cancellationToken);
}
