using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.OpenApi;
using ProLifeProsper.Api.Services;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Apis;

public static class PaymentsApi
{
    public static IEndpointRouteBuilder MapPaymentsApi(this IEndpointRouteBuilder app)
    {
        var payments = app.MapOrganizationGroup("payments", "Payments")
            .ProducesProblemWhen(StatusCodes.Status503ServiceUnavailable, ApiGroups.PaymentStoreUnavailable);
        payments.MapPost("/", CreatePayment).WithName("CreatePayment")
            .WithSummary("Take a donation. Requires Idempotency-Key: a retry with the same key and body replays the first response.")
            .ProducesProblemWhen(StatusCodes.Status409Conflict,
                "The first request with this Idempotency-Key is still being processed (`idempotency-key-in-flight`): retry with the same key.")
            .ProducesProblemWhen(StatusCodes.Status422UnprocessableEntity,
                "The campaign or donor does not exist in this organization (`campaign-not-found`, `donor-not-found`), the currency is not the " +
                "campaign's (`currency-mismatch`), the campaign is not accepting donations now (`campaign-not-accepting-donations`), the " +
                "processor does not know the payment method (`payment-method-invalid`), or the Idempotency-Key was used for a different " +
                "request (`idempotency-key-reused`). Nothing was kept: a key that a refund holds is found only after the charge, " +
                "which is then given back.");
        payments.MapGet("/", ListPayments).WithName("ListPayments")
            .WithSummary("List payments newest first, by creation time range and status, with cursor paging.");
        payments.MapGet("/{transactionId:guid}", GetPayment).WithName("GetPayment").WithSummary("Get a payment.")
            .ProducesProblemWhen(StatusCodes.Status404NotFound, ApiGroups.NotFound("payment"));
        payments.MapPost("/{transactionId:guid}/refunds", RefundPayment).WithName("RefundPayment")
            .WithSummary("Refund part or all of a succeeded payment (Idempotency-Key required); never more than what is left.")
            .ProducesProblemWhen(StatusCodes.Status404NotFound, ApiGroups.NotFound("payment"))
            .ProducesProblemWhen(StatusCodes.Status409Conflict,
                "The payment cannot be refunded in its status (`invalid-payment-transition`: pending, failed or already fully refunded), " +
                "the first request with this Idempotency-Key is still being processed (`idempotency-key-in-flight`), or the payment kept " +
                "changing under the refund (`concurrent-update`). The last two: retry with the same key.")
            .ProducesProblemWhen(StatusCodes.Status422UnprocessableEntity,
                "The amount is more than what is left to refund (`refund-exceeds-balance`), the payment has had its 100 changes " +
                "(`too-many-refunds`: only a refund of everything left is still taken), or the Idempotency-Key was used for a " +
                "different request (`idempotency-key-reused`). Nothing was refunded.");
        return app;
    }

    public static async Task<Created<PaymentResponse>> CreatePayment(
        Guid orgId,
        [FromHeader(Name = RequestParsing.IdempotencyKeyHeader)] string[]? idempotencyKey,
        CreatePaymentRequest request,
        PaymentTransactionService payments,
        HttpContext httpContext,
        CancellationToken cancellationToken)
    {
        var key = RequestParsing.IdempotencyKey(idempotencyKey);
        var command = PaymentRequest.Create(request.CampaignId, request.DonorId, request.AmountMinor, request.Currency,
            request.PaymentMethod?.Type, request.PaymentMethod?.Token);
        var result = await payments.CreateAsync(orgId, key, command, cancellationToken);
        RequestParsing.MarkReplay(httpContext, result.Replayed);
        return TypedResults.Created($"/api/organizations/{orgId}/payments/{result.Value.TransactionId}", PaymentResponse.From(result.Value));
    }

    public static async Task<Ok<PaymentResponse>> GetPayment(Guid orgId, Guid transactionId, PaymentTransactionService payments, CancellationToken cancellationToken) =>
        TypedResults.Ok(PaymentResponse.From(await payments.GetAsync(orgId, transactionId, cancellationToken)));

    public static async Task<Ok<ListResponse<PaymentResponse>>> ListPayments(
        Guid orgId, DateTimeOffset? from, DateTimeOffset? to, string? status, int? limit, string? cursor,
        PaymentTransactionService payments, CancellationToken cancellationToken)
    {
        var page = RequestParsing.Page(limit, cursor);
        var (start, end) = RequestParsing.Range(from, to, UtcClock.Earliest, UtcClock.Latest);
        RequestParsing.CursorWithin(page.After, start, end);
        var result = await payments.ListAsync(
            new PaymentListQuery(orgId, start, end, RequestParsing.Status(status), page.Limit, page.After), cancellationToken);
        return TypedResults.Ok(new ListResponse<PaymentResponse>(result.Items.Select(PaymentResponse.From).ToList(), result.Next?.Encode()));
    }

    public static async Task<Created<RefundResponse>> RefundPayment(
        Guid orgId,
        Guid transactionId,
        [FromHeader(Name = RequestParsing.IdempotencyKeyHeader)] string[]? idempotencyKey,
        CreateRefundRequest request,
        PaymentTransactionService payments,
        HttpContext httpContext,
        CancellationToken cancellationToken)
    {
        var key = RequestParsing.IdempotencyKey(idempotencyKey);
        if (request.AmountMinor is { } amount) new ValidationErrors().RequireAmount(amount, "amountMinor").ThrowIfAny();
        var result = await payments.RefundAsync(orgId, transactionId, key, request.AmountMinor, cancellationToken);
        RequestParsing.MarkReplay(httpContext, result.Replayed);
        return TypedResults.Created($"/api/organizations/{orgId}/payments/{transactionId}", RefundResponse.From(result.Value));
    }
}
