using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Infrastructure.EntityConfigurations;

/// <summary>
/// Payment rows carry no foreign keys to campaigns or donors: the same rows may live in DynamoDB,
/// and the referential check happens once, in the service, before the payment is taken.
/// </summary>
public sealed class PaymentTransactionConfiguration : IEntityTypeConfiguration<PaymentTransaction>
{
    public const string BackfillOrderIndex = "ix_payment_transactions_created_at_transaction_id";

    public const string UniqueKeyIndex = "ux_payment_transactions_organization_key";

    public void Configure(EntityTypeBuilder<PaymentTransaction> builder)
    {
        builder.ToTable("payment_transactions");
        builder.HasKey(p => p.TransactionId);
        builder.Property(p => p.TransactionId).ValueGeneratedNever();
        builder.Property(p => p.Currency).HasMaxLength(3).IsFixedLength();
        builder.Property(p => p.Status).HasConversion(s => s.ToWire(), s => PaymentStatusNames.Parse(s)).HasMaxLength(24);
        builder.Property(p => p.PaymentMethodType).HasConversion(t => t.ToWire(), t => PaymentMethodTypeNames.Parse(t)).HasMaxLength(24);
        builder.Property(p => p.PaymentMethodToken).HasMaxLength(PaymentRequest.MaxTokenLength);
        builder.Property(p => p.IdempotencyKey).HasMaxLength(IdempotencyRecord.MaxKeyLength);
        builder.Property(p => p.FailureCode).HasMaxLength(64);
        builder.Ignore(p => p.RefundableAmountMinor);

        // Listing an organization's payments newest first, with a (created_at, id) cursor.
        builder.HasIndex(p => new { p.OrganizationId, p.CreatedAt, p.TransactionId }).IsDescending(false, true, true);
        // The settlement worker's "oldest pending first" scan touches only pending rows.
        builder.HasIndex(p => p.CreatedAt).HasFilter("status = 'pending'").HasDatabaseName("ix_payment_transactions_pending_created_at");
        // One payment per idempotency key, whatever path wrote it (a create, or a copy from DynamoDB after a rollback).
        builder.HasIndex(p => new { p.OrganizationId, p.IdempotencyKey }).IsUnique().HasDatabaseName(UniqueKeyIndex);
        // Campaign progress.
        builder.HasIndex(p => new { p.OrganizationId, p.CampaignId });
        // The store migration's backfill pages through every payment in time order, and its high-water mark is the newest:
        // without this, each page (and the mark, read under the lock every payment write waits on) was a scan of the table.
        builder.HasIndex(p => new { p.CreatedAt, p.TransactionId }).HasDatabaseName(BackfillOrderIndex);
    }
}
