using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using ProLifeProsper.Api.Apis.Contracts;
using ProLifeProsper.Api.Services;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Payments;

namespace ProLifeProsper.Api.Apis;

public static class PaymentsApi
{
    public static IEndpointRouteBuilder MapPaymentsApi(this IEndpointRouteBuilder app)
    {
        var payments = app.MapOrganizationGroup("payments", "Payments");
        payments.MapPost("/", CreatePayment).WithName("CreatePayment")
            .WithSummary("Take a donation. Requires Idempotency-Key: a retry with the same key and body replays the first response.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        payments.MapGet("/", ListPayments).WithName("ListPayments")
            .WithSummary("List payments newest first, by creation time range and status, with cursor paging.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        payments.MapGet("/{transactionId:guid}", GetPayment).WithName("GetPayment").WithSummary("Get a payment.");
        payments.MapPost("/{transactionId:guid}/refunds", RefundPayment).WithName("RefundPayment")
            .WithSummary("Refund part or all of a succeeded payment (Idempotency-Key required); never more than what is left.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return app;
    }

    public static async Task<Created<PaymentResponse>> CreatePayment(
        Guid orgId,
        [FromHeader(Name = RequestParsing.IdempotencyKeyHeader)] string? idempotencyKey,
        CreatePaymentRequest request,
        PaymentTransactionService payments,
        HttpContext httpContext,
        CancellationToken cancellationToken)
    {
        var key = RequestParsing.IdempotencyKey(idempotencyKey);
        var command = PaymentRequest.Create(request.CampaignId, request.DonorId, request.AmountMinor, request.Currency,
            request.PaymentMethod?.Type, request.PaymentMethod?.Token);
        var result = await payments.CreateAsync(orgId, key, command, cancellationToken);
        MarkReplay(httpContext, result.Replayed);
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
        [FromHeader(Name = RequestParsing.IdempotencyKeyHeader)] string? idempotencyKey,
        CreateRefundRequest request,
        PaymentTransactionService payments,
        HttpContext httpContext,
        CancellationToken cancellationToken)
    {
        var key = RequestParsing.IdempotencyKey(idempotencyKey);
        if (request.AmountMinor is { } amount) new ValidationErrors().RequireAmount(amount, "amountMinor").ThrowIfAny();
        var result = await payments.RefundAsync(orgId, transactionId, key, request.AmountMinor, cancellationToken);
        MarkReplay(httpContext, result.Replayed);
        return TypedResults.Created($"/api/organizations/{orgId}/payments/{transactionId}", RefundResponse.From(result.Value));
    }

    private static void MarkReplay(HttpContext httpContext, bool replayed)
    {
        if (replayed) httpContext.Response.Headers[RequestParsing.IdempotentReplayedHeader] = "true";
    }
}
