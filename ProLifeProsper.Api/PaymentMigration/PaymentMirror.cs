using Microsoft.Extensions.Options;
using ProLifeProsper.Api.Storage.DynamoDb;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.PaymentMigration;

/// <summary>
/// Applies one outbox row: copies the payment (and its idempotency record) from the store that took the write
/// to the other one, version-conditionally, so a copy never replaces a newer state.
/// </summary>
public sealed class PaymentMirror(PostgreSqlPaymentTransactionStore postgres, DynamoDbPaymentTransactionStore dynamo,
    IOptions<MigrationOptions> options, TimeProvider time, MigrationMetrics metrics)
{
    public async Task<OutboxOutcome> ApplyAsync(OutboxRow row, CancellationToken cancellationToken)
    {
        var toDynamo = row.Target == DynamoDbPaymentTransactionStore.StoreName;
        IPaymentTransactionStore source = toDynamo ? postgres : dynamo;
        var payment = await source.GetAsync(row.OrganizationId, row.TransactionId, cancellationToken);
        if (payment is null || payment.Version < row.ExpectedVersion)
        {
            // The source does not have the write yet. A PostgreSQL-primary row is written with its write, so that
            // cannot last; a DynamoDB intent whose write never came within the grace was never acknowledged.
            var waited = UtcClock.Now(time) - row.EnqueuedAt;
            return toDynamo || waited > options.Value.IntentGrace ? OutboxOutcome.Done : OutboxOutcome.Retry;
        }

        await CopyAsync(payment, toDynamo, cancellationToken);
        if (row.IdempotencyKey is { } key && await source.FindIdempotencyRecordAsync(row.OrganizationId, key, cancellationToken) is { } record)
            await CopyRecordAsync(record, toDynamo, cancellationToken);
        metrics.Mirrored(row.Target);
        return OutboxOutcome.Done;
    }

    public Task<bool> CopyAsync(PaymentTransaction payment, bool toDynamo, CancellationToken cancellationToken) =>
        toDynamo ? dynamo.CopyAsync(payment, cancellationToken) : postgres.CopyAsync(payment, cancellationToken);

    public Task CopyRecordAsync(IdempotencyRecord record, bool toDynamo, CancellationToken cancellationToken) =>
        toDynamo ? dynamo.CopyIdempotencyRecordAsync(record, cancellationToken) : postgres.CopyIdempotencyRecordAsync(record, cancellationToken);
}
