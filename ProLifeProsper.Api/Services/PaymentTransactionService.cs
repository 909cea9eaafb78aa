using ProLifeProsper.Api.Errors;
using ProLifeProsper.Api.Infrastructure.Telemetry;
using ProLifeProsper.Api.RateLimiting;
using ProLifeProsper.Api.Services.Refunds;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Services;

/// <summary>
/// Takes, reads, refunds and settles payments. It speaks only to <see cref="IPaymentTransactionStore"/>,
/// so the database router can send payments to PostgreSQL or DynamoDB without a change here.
/// </summary>
public sealed class PaymentTransactionService(
    IPaymentTransactionStore store,
    IPaymentGateway gateway,
    CampaignService campaigns,
    DonorService donors,
    PaymentReferenceCache references,
    FailedPaymentLimiter failedPayments,
    ProcessorLookupLimiter processorLookups,
    RefundPayouts payouts,
    TimeProvider time,
    ILogger<PaymentTransactionService> logger)
{
    private const int MaxUpdateAttempts = 5;

    /// <summary>
    /// Takes a payment. There is no read before the write: the store's create claims the idempotency key in the
    /// same statement (or conditional write) that stores the payment, and hands back the earlier record when the
    /// key is taken, which is then replayed. A retry is the rare case, so it pays the extra read, not every create.
    /// A donor or organization with too many recent declines is refused (429) before the processor is asked: card testing.
    /// </summary>
    public async Task<IdempotentResult<PaymentTransaction>> CreateAsync(Guid organizationId, string idempotencyKey, PaymentRequest request, CancellationToken cancellationToken)
    {
        var fingerprint = request.Fingerprint();
        var now = UtcClock.Now(time);
        // The admission holds the attempt's place against the card-testing limit until the attempt is stored (or refused).
        IDisposable? admission = null;
        try
        {
            GatewayOutcome outcome;
            try
            {
                await EnsureAcceptableAsync(organizationId, request, now, cancellationToken);
                // After the donor is known to exist: only real donors are counted, so made-up donor ids cost the limiter nothing.
                admission = failedPayments.Admit(organizationId, request.DonorId, idempotencyKey);
                // Never charge a donor for a payment the store would refuse right now (a stale routing view, a store that lost its data).
                await store.EnsureWritableAsync(cancellationToken);
                // The last moment a client that has gone away stops the attempt: after it, the charge is made and kept.
                cancellationToken.ThrowIfCancellationRequested();
                // The processor receives the idempotency key, so a retry that reaches it is not charged twice there either.
                // From the charge on, the client's going away stops nothing (no request token): money may have moved, so the
                // payment is stored, and a decline counted, whether or not anyone is still waiting for the answer.
                outcome = await gateway.ChargeAsync(organizationId, idempotencyKey, request, CancellationToken.None);
            }
            catch (Exception e) when (e is DomainException or RateLimitedException)
            {
                // A retry of a payment accepted earlier replays its answer even if it would be refused now (the campaign closed
                // since, or the donor's later attempts were declined).
                if (await store.FindIdempotencyRecordAsync(organizationId, idempotencyKey, cancellationToken) is { } earlier)
                {
                    // A refund's key: an earlier attempt of this request may have been charged before it met the refund (its
                    // answer lost). That charge is given back here too, under the same ids, however this retry is refused.
                    if (PaymentSnapshotJson.IsRefund(earlier.ResponseJson)
                        && await FindEarlierChargeAsync(organizationId, idempotencyKey, request, cancellationToken) is { } earlierCharge)
                        await GiveBackChargeUnderARefundKeyAsync(PaymentTransaction.Create(organizationId, request, earlierCharge, idempotencyKey, now));
                    return Replay(earlier, fingerprint, PaymentSnapshotJson.DeserializePayment);
                }
                // A refusal that can come after the attempt was charged (the donor blocked since, the campaign closed since) must
                // not strand that charge: a retry of an attempt whose answer was lost is that same attempt, not a new one. Record
                // what the processor did, as the first request would have.
                if (MayFollowACharge(e) && await FindEarlierChargeAsync(organizationId, idempotencyKey, request, cancellationToken, e as RateLimitedException) is { } charged)
                    outcome = charged;
                else throw;
            }

            var (payment, stored) = await StoreChargeAsync(organizationId, idempotencyKey, request, fingerprint, outcome, now);
            if (stored.ResourceId != payment.TransactionId)
                return Replay(stored, fingerprint, PaymentSnapshotJson.DeserializePayment); // a refund's key: 422, key reused
            // Counted once the failed payment is stored, so a retry of the same attempt (a replay) is not counted again; counted
            // before the admission ends, so the attempt never drops out of the limit in between.
            if (payment.Status == PaymentStatus.Failed) failedPayments.RecordFailure(organizationId, request.DonorId);
            return new IdempotentResult<PaymentTransaction>(payment, Replayed: false);
        }
        finally
        {
            admission?.Dispose();
        }
    }

    /// <summary>
    /// Records a charge the processor made whose request died before its payment was stored, and whose client never retried
    /// (the charge reconciliation): stored as that request would have stored it, dated when it was charged. Nothing is asked
    /// of the processor and nothing is checked against the present (the request was accepted then, and the charge is made):
    /// the processor is never asked to charge again, whatever it still remembers of the key. A key that a refund holds
    /// meanwhile: the charge is given back, as a retry would give it back (503 when the processor cannot be reached yet).
    /// Returns what was done: "recorded", "given_back", or "already_recorded" (its request, or a retry, stored it meanwhile).
    /// </summary>
    public async Task<string> RecordProcessorChargeAsync(ProcessorCharge charge, CancellationToken cancellationToken)
    {
        await store.EnsureWritableAsync(cancellationToken);
        var (payment, stored) = await StoreChargeAsync(charge.OrganizationId, charge.IdempotencyKey, charge.Request, charge.Request.Fingerprint(), charge.Outcome,
            UtcClock.TruncateToMilliseconds(charge.ChargedAt));
        return stored.ResourceId == payment.TransactionId ? "recorded" : PaymentSnapshotJson.IsRefund(stored.ResponseJson) ? "given_back" : "already_recorded";
    }

    /// <summary>
    /// Stores the payment a charge made, with its idempotency record, whoever is still waiting (no request token). Returns
    /// the payment and the record in effect: another's when the key was taken. A key a refund holds gives the charge back.
    /// </summary>
    private async Task<(PaymentTransaction Payment, IdempotencyRecord Stored)> StoreChargeAsync(Guid organizationId, string idempotencyKey, PaymentRequest request,
        string fingerprint, GatewayOutcome outcome, DateTimeOffset at)
    {
        var payment = PaymentTransaction.Create(organizationId, request, outcome, idempotencyKey, at);
        var record = new IdempotencyRecord(organizationId, idempotencyKey, fingerprint, payment.TransactionId, PaymentSnapshotJson.Serialize(payment), at);
        var stored = await store.CreateAsync(payment, record, CancellationToken.None);
        if (stored.ResourceId != payment.TransactionId && PaymentSnapshotJson.IsRefund(stored.ResponseJson)) await GiveBackChargeUnderARefundKeyAsync(payment);
        return (payment, stored);
    }

    /// <summary>
    /// A create whose key a refund already holds is refused (422), but only once it is charged: creates claim their key as
    /// they store the payment, after the processor. The processor had never seen the key as a charge, so that charge is
    /// this request's own and no payment will ever hold it: it is given back before the refusal, under ids made from the
    /// key, so a retry of the request gives back nothing more. A decline is counted against card testing as any other.
    /// A bank transfer still pending cannot be given back by this processor interface: logged for an operator.
    /// </summary>
    private async Task GiveBackChargeUnderARefundKeyAsync(PaymentTransaction charged)
    {
        switch (charged.Status)
        {
            case PaymentStatus.Succeeded:
                var (chargeId, giveBackId) = (IdOf("charge", charged), IdOf("give-back", charged));
                try
                {
                    using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    await gateway.RefundAsync(charged with { TransactionId = chargeId }, giveBackId, charged.AmountMinor, bounded.Token);
                }
                catch (Exception e) when (e is not (DomainException or OutOfMemoryException))
                {
                    // A retry with the key gives it back (the same ids: paid once); until then the client must know to retry.
                    logger.LogError(e, "The charge of a payment that reused a refund's Idempotency-Key of organization {OrganizationId} was not given back yet ({RefundId})",
                        charged.OrganizationId, giveBackId);
                    throw new ServiceUnavailableException("charge-not-given-back", "The charge could not be given back yet.",
                        "This Idempotency-Key belongs to a refund, and the charge this request made was not given back yet. Retry with the same key.");
                }
                logger.LogWarning("A payment reused the Idempotency-Key of a refund of organization {OrganizationId}; its charge of {Amount} {Currency} was given back ({RefundId})",
                    charged.OrganizationId, charged.AmountMinor, charged.Currency, giveBackId);
                break;
            case PaymentStatus.Failed:
                failedPayments.RecordFailure(charged.OrganizationId, charged.DonorId);
                break;
            default:
                logger.LogError("A payment reused the Idempotency-Key of a refund of organization {OrganizationId}; its {Status} charge of {Amount} {Currency} could not be given back: settle it with the processor",
                    charged.OrganizationId, charged.Status, charged.AmountMinor, charged.Currency);
                break;
        }
    }

    // The first 16 bytes of the key's fingerprint for this purpose: the same on every retry and every instance.
    private static Guid IdOf(string purpose, PaymentTransaction charged) =>
        new(Convert.FromHexString(IdempotencyFingerprint.Of(purpose, charged.OrganizationId, charged.IdempotencyKey)).AsSpan(0, 16));

    /// <summary>
    /// Asks the processor for the key's charge on behalf of a refused request, within the organization's budget. Over it the
    /// client is asked to retry (429: the refusal's own when it is one, with its wait), not refused for good: a charge a lost
    /// answer left behind must still be found.
    /// </summary>
    private ValueTask<GatewayOutcome?> FindEarlierChargeAsync(Guid organizationId, string idempotencyKey, PaymentRequest request, CancellationToken cancellationToken,
        RateLimitedException? refusal = null) =>
        processorLookups.TryTake(organizationId, refusal is null ? null : request.DonorId)
            ? gateway.FindChargeAsync(organizationId, idempotencyKey, request, cancellationToken)
            : throw refusal ?? new RateLimitedException("rate-limited", "Too many requests.",
                "Answering this request needs a look at the payment processor, and this organization has made too many lately. Retry shortly with the same Idempotency-Key.",
                TimeSpan.FromSeconds(1));

    // Refusals that depend on when the request comes, not on what it says: an earlier attempt with the key may have passed them.
    private static bool MayFollowACharge(Exception e) =>
        e is RateLimitedException || (e is DomainException d && d.Code == CampaignClosedCode);

    private static readonly string CampaignClosedCode = DomainErrors.CampaignNotAcceptingDonations(Guid.Empty).Code;

    /// <summary>The campaign and donor exist in this organization, the currency is the campaign's, and the campaign is open.</summary>
    private async Task EnsureAcceptableAsync(Guid organizationId, PaymentRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var campaign = await references.GetOrLookUpAsync(("campaign", organizationId, request.CampaignId),
            () => campaigns.FindAsync(organizationId, request.CampaignId, cancellationToken))
            ?? throw DomainErrors.ReferenceNotFound("campaign", request.CampaignId);
        var donorExists = await references.GetOrLookUpAsync(("donor", organizationId, request.DonorId),
            async () => await donors.FindAsync(organizationId, request.DonorId, cancellationToken) is not null);
        if (!donorExists) throw DomainErrors.ReferenceNotFound("donor", request.DonorId);
        if (campaign.Currency != request.Currency) throw DomainErrors.CurrencyMismatch(campaign.Currency, request.Currency);
        if (!campaign.AcceptsDonationsAt(now)) throw DomainErrors.CampaignNotAcceptingDonations(campaign.Id);
    }

    public async Task<PaymentTransaction> GetAsync(Guid organizationId, Guid transactionId, CancellationToken cancellationToken) =>
        await store.GetAsync(organizationId, transactionId, cancellationToken) ?? throw DomainErrors.NotFound("payment", transactionId);

    public Task<Page<PaymentTransaction>> ListAsync(PaymentListQuery query, CancellationToken cancellationToken) => store.ListAsync(query, cancellationToken);

    public Task<IReadOnlyList<HourlyPaymentTotal>> GetHourlyTotalsAsync(Guid organizationId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        store.GetHourlyTotalsAsync(organizationId, from, to, cancellationToken);

    /// <summary>
    /// Refunds <paramref name="amountMinor"/> (or everything left when null) of a captured payment. The store write
    /// comes first: it claims the key and takes the amount off the payment in one conditional step, so two refunds
    /// racing for one balance cannot both pass. Only then is the processor asked to pay out, under the refund id the
    /// key now owns, so a retry (or a replay after a crash between the two) asks again with the same id and the
    /// processor pays once. The pay-out is owed in <see cref="RefundPayouts"/> before the refund is written, so a refund
    /// cut off before its pay-out is paid by <see cref="RefundPayoutWorker"/> even if its client never retries.
    /// </summary>
    public async Task<IdempotentResult<RefundReceipt>> RefundAsync(Guid organizationId, Guid transactionId, string idempotencyKey, long? amountMinor, CancellationToken cancellationToken)
    {
        var fingerprint = IdempotencyFingerprint.Of("payments.refund", transactionId, amountMinor?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "remaining");
        if (await store.FindIdempotencyRecordAsync(organizationId, idempotencyKey, cancellationToken) is { } earlier)
            return await ReplayRefundAsync(earlier, fingerprint);

        var refundId = Guid.CreateVersion7();
        await payouts.OweAsync(refundId, organizationId, transactionId, idempotencyKey, cancellationToken);
        var owedAt = time.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            IdempotencyRecord? stored;
            RefundReceipt receipt;
            try
            {
                // The sweeper may drop this owed pay-out after its grace if it finds no refund recorded: a write must not
                // start late enough to land after that. Half the grace, for the write itself (PostgreSQL statements time out
                // after 30 s, DynamoDB-first writes after DynamoDb:WriteTimeout).
                if (time.GetElapsedTime(owedAt) > payouts.LatestWriteStart)
                    throw new ServiceUnavailableException("refund-timed-out", "The refund took too long to start.",
                        "Nothing was refunded. Retry it with the same Idempotency-Key.");
                var payment = await GetAsync(organizationId, transactionId, cancellationToken);
                var now = UtcClock.Now(time);
                var amount = amountMinor ?? payment.RefundableAmountMinor;
                var refunded = payment.Refund(amount, now);
                receipt = new RefundReceipt(refundId, amount, payment.Currency, now, refunded);
                var record = new IdempotencyRecord(organizationId, idempotencyKey, fingerprint, refundId, PaymentSnapshotJson.Serialize(receipt), now);
                stored = await store.UpdateAsync(refunded, record, cancellationToken);
            }
            catch (DomainException e) when (e.Code == DomainErrors.ConcurrentUpdate().Code && attempt < MaxUpdateAttempts)
            {
                // Another write (a settlement, another refund) won the race: re-read and apply to the new state.
                continue;
            }
            catch (Exception e) when (e is DomainException or ServiceUnavailableException)
            {
                // Refused (not refundable, not found, the key in flight, the race lost too often, too late): this refund wrote nothing.
                await ForgetPayoutAsync(refundId);
                // A retry racing its own first request can find the balance (or the payment's changes) already taken by it:
                // it answers as that request did, not "nothing was refunded".
                if (e is DomainException && await store.FindIdempotencyRecordAsync(organizationId, idempotencyKey, cancellationToken) is { } recorded)
                    return await ReplayRefundAsync(recorded, fingerprint);
                throw;
            }
            if (stored is not null && stored.ResourceId != refundId)
            {
                await ForgetPayoutAsync(refundId); // the key belongs to an earlier refund, whose own pay-out the replay asks for
                return await ReplayRefundAsync(stored, fingerprint);
            }
            // A write that outlasted its start bound (a long lock wait, slow statements) may have landed after the sweeper,
            // finding no refund yet, dropped the owed pay-out: owed again before paying, so a failed pay-out is still swept.
            if (time.GetElapsedTime(owedAt) > payouts.LatestWriteStart) await OweAgainAsync(refundId, organizationId, transactionId, idempotencyKey);
            await PayOutAsync(receipt);
            await ForgetPayoutAsync(refundId);
            return new IdempotentResult<RefundReceipt>(receipt, Replayed: false);
        }
    }

    // Best effort, and never in the way of the pay-out itself: the donor is paid now if the processor answers.
    private async Task OweAgainAsync(Guid refundId, Guid organizationId, Guid transactionId, string idempotencyKey)
    {
        try
        {
            await payouts.OweAsync(refundId, organizationId, transactionId, idempotencyKey, CancellationToken.None);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            logger.LogError(e, "Could not owe pay-out {RefundId} of payment {TransactionId} again; if the pay-out fails too, only a retry of key {Key} pays it",
                refundId, transactionId, idempotencyKey);
        }
    }

    // Best effort: a row left behind is settled by the sweeper, which finds the pay-out made (the processor pays an id once)
    // or the refund never recorded.
    private async Task ForgetPayoutAsync(Guid refundId)
    {
        try
        {
            await payouts.SettleAsync(refundId, CancellationToken.None);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            logger.LogWarning(e, "Could not clear owed pay-out {RefundId}; the sweeper will", refundId);
        }
    }

    /// <summary>
    /// Settles up to <paramref name="limit"/> owed pay-outs that are due (their request is long over): a refund that was
    /// recorded is paid out under its own id (nothing more if the request did pay it); one that never was is dropped.
    /// Returns how many were looked at.
    /// </summary>
    public async Task<int> FinishOwedPayoutsAsync(int limit, CancellationToken cancellationToken)
    {
        var due = await payouts.DueAsync(limit, cancellationToken);
        foreach (var owed in due)
        {
            try
            {
                var record = await store.FindIdempotencyRecordAsync(owed.OrganizationId, owed.IdempotencyKey, cancellationToken);
                if (record is not null && record.ResourceId == owed.RefundId)
                {
                    // Bounded: a processor that hangs must not hold the sweeper (and every owed pay-out behind this one).
                    using var processorTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    processorTimeout.CancelAfter(TimeSpan.FromSeconds(30));
                    await PayOutAsync(PaymentSnapshotJson.DeserializeRefund(record.ResponseJson), processorTimeout.Token);
                    logger.LogWarning("Refund {RefundId} of payment {TransactionId} was recorded but its request ended before the pay-out; paid out now",
                        owed.RefundId, owed.TransactionId);
                    await payouts.SettleAsync(owed.RefundId, cancellationToken);
                }
                else if (record is null && owed.StoreWriteQueued)
                {
                    // A write of this payment is still on its way between the stores (a migration step): its record may be too.
                    await payouts.RetryLaterAsync(owed.RefundId, "a store write of the payment is still queued", cancellationToken);
                }
                else
                {
                    // Never recorded, as far as this look saw: dropped unless the refund owed it anew meanwhile (its write landed late).
                    await payouts.DropUnrecordedAsync(owed.RefundId, owed.OwedAt, cancellationToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (owed.Attempts >= 10) logger.LogError(e, "Owed pay-out {RefundId} of payment {TransactionId} has failed {Attempts} times: the donor is still owed it",
                    owed.RefundId, owed.TransactionId, owed.Attempts + 1);
                else logger.LogWarning(e, "Owed pay-out {RefundId} not settled yet; trying again later", owed.RefundId);
                await payouts.RetryLaterAsync(owed.RefundId, $"{e.GetType().Name}: {e.Message}", cancellationToken);
            }
        }
        return due.Count;
    }

    // The refund is recorded: the processor pays it out whether or not the client is still waiting (no request token here).
    private ValueTask PayOutAsync(RefundReceipt receipt, CancellationToken cancellationToken = default) =>
        gateway.RefundAsync(receipt.Payment, receipt.RefundId, receipt.AmountMinor, cancellationToken);

    /// <summary>A replayed refund asks the processor again under its own id: a no-op if it was paid, the pay-out if a crash cut it off.</summary>
    private async Task<IdempotentResult<RefundReceipt>> ReplayRefundAsync(IdempotencyRecord record, string fingerprint)
    {
        var replay = Replay(record, fingerprint, PaymentSnapshotJson.DeserializeRefund);
        await PayOutAsync(replay.Value);
        return replay;
    }

    private const int MaxSettlementFailuresInARow = 10;

    /// <summary>
    /// Settles one page of pending payments created before <paramref name="createdBefore"/> and after
    /// <paramref name="after"/>, oldest first. Returns how many changed and where the next page starts (null when this
    /// was the last), so payments the processor still holds are passed over instead of blocking the queue, and so is a
    /// payment whose settlement fails (the processor or the store refusing that one): it is logged and tried again next pass.
    /// A page ends the pass only when it is empty: a store may answer a short page while more are due (DynamoDB drops the
    /// index entries its consistent re-read finds settled already).
    /// </summary>
    public async Task<(int Settled, PageCursor? Next)> SettlePendingPageAsync(DateTimeOffset createdBefore, PageCursor? after, int batchSize, CancellationToken cancellationToken)
    {
        var due = await store.GetPendingAsync(createdBefore, after, batchSize, cancellationToken);
        var (settled, failedInARow) = (0, 0);
        // Traced from the first payment the processor has settled: a page of payments still pending is a poll, not work.
        BackgroundWork? work = null;
        try
        {
            foreach (var payment in due)
            {
                try
                {
                    var outcome = await gateway.GetSettlementAsync(payment, cancellationToken);
                    if (outcome.Status == PaymentStatus.Pending)
                    {
                        failedInARow = 0;
                        continue;
                    }
                    work ??= BackgroundTracing.StartWork("settle payments");
                    var now = UtcClock.Now(time);
                    var updated = outcome.Status == PaymentStatus.Succeeded ? payment.Settle(now) : payment.Fail(outcome.FailureCode ?? "settlement_failed", now);
                    await store.UpdateAsync(updated, null, cancellationToken);
                    settled++;
                    failedInARow = 0;
                }
                catch (DomainException e) when (e.Kind == DomainErrorKind.Conflict)
                {
                    // Changed since it was read (or a lost answer hid our own write); the next pass sees its real state.
                    logger.LogDebug("Payment {TransactionId} changed while it was being settled", payment.TransactionId);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && ++failedInARow < MaxSettlementFailuresInARow)
                {
                    // One payment the processor or the store will not settle now must not hold back every transfer behind it;
                    // many in a row is an outage, which ends the pass (the worker tries again later) instead of asking about all.
                    logger.LogWarning(e, "Payment {TransactionId} of organization {OrganizationId} could not be settled this pass; it is tried again next pass",
                        payment.TransactionId, payment.OrganizationId);
                }
            }
            work?.SetTag("prolifeprosper.payments.settled", settled);
        }
        finally
        {
            work?.Dispose();
        }
        return (settled, due.Count == 0 ? null : new PageCursor(due[^1].CreatedAt, due[^1].TransactionId));
    }

    private static IdempotentResult<T> Replay<T>(IdempotencyRecord record, string fingerprint, Func<string, T> read) =>
        record.Fingerprint == fingerprint
            ? new IdempotentResult<T>(read(record.ResponseJson), Replayed: true)
            : throw DomainErrors.IdempotencyKeyReused();
}
