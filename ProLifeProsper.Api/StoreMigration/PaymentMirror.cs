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
    IOptions<MigrationOptions> options, MigrationMetrics metrics, ILogger<PaymentMirror> logger)
{
    public async Task<OutboxOutcome> ApplyAsync(OutboxRow row, CancellationToken cancellationToken)
    {
        var toDynamo = row.Target == DynamoDbPaymentTransactionStore.StoreName;
        IPaymentTransactionStore source = toDynamo ? postgres : dynamo;
        var payment = await source.GetAsync(row.OrganizationId, row.TransactionId, cancellationToken);
        if (!toDynamo && (payment is null || payment.Version < row.ExpectedVersion) && row.IdempotencyKey is { } key)
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
            metrics.DuplicateRefused();
            logger.LogError("Payment {TransactionId} was not copied to PostgreSQL: another payment already holds idempotency key '{Key}' of organization {OrganizationId}",
                payment.TransactionId, payment.IdempotencyKey, payment.OrganizationId);
            return false;
        }
    }

    public Task CopyRecordAsync(IdempotencyRecord record, bool toDynamo, CancellationToken cancellationToken) =>
        toDynamo ? dynamo.CopyIdempotencyRecordAsync(record, cancellationToken) : postgres.CopyIdempotencyRecordAsync(record, cancellationToken);
}
