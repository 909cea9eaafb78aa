using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Api.Errors;
using ProLifeProsper.Api.RateLimiting;
using ProLifeProsper.Api.Storage.PostgreSql;
using ProLifeProsper.Api.Storage.DynamoDb;

namespace ProLifeProsper.Api.Apis;

/// <summary>
/// Turns domain errors and malformed requests into RFC 7807 ProblemDetails with stable types, so
/// nothing a client sends produces a 500.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problemDetails, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails? problem = exception switch
        {
            DomainException domain => FromDomain(domain),
            BadHttpRequestException bad => new ProblemDetails
            {
                Status = bad.StatusCode,
                // Any other unreadable request (a bad header, a time-out reading the body) is a malformed request.
                Type = ProblemTypes.For(bad.StatusCode is StatusCodes.Status413PayloadTooLarge or StatusCodes.Status415UnsupportedMediaType
                    ? ProblemTypes.CodeFor(bad.StatusCode) : "malformed-request"),
                Title = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "The request body is too large." : "The request could not be read.",
                Detail = ClientSafeDetail(bad),
            },
            RateLimitedException limited => new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Type = ProblemTypes.For(limited.Code),
                Title = limited.Title,
                Detail = limited.Message,
            },
            ServiceUnavailableException unavailable => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Type = ProblemTypes.For(unavailable.Code),
                Title = unavailable.Title,
                Detail = unavailable.Message,
            },
            // A database that does not answer is not the client's fault, and not a bug either: say so, retryably.
            _ when IsUnavailable(exception) => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Type = ProblemTypes.For("store-unavailable"),
                Title = "A database is not available right now.",
                Detail = "Retry the request later; with the same Idempotency-Key it is safe to retry.",
            },
            _ => null,
        };
        if (problem is null) return false;
        if (problem.Status == StatusCodes.Status503ServiceUnavailable) logger.LogWarning(exception, "A store did not answer");

        logger.LogDebug(exception, "Request refused with {Status}", problem.Status);
        httpContext.Response.StatusCode = problem.Status!.Value;
        if (exception is RateLimitedException { RetryAfter: var wait }) RateLimitRejection.SetRetryAfter(httpContext.Response, wait);
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    private static ProblemDetails FromDomain(DomainException e)
    {
        var status = e.Kind switch
        {
            DomainErrorKind.Validation => StatusCodes.Status400BadRequest,
            DomainErrorKind.NotFound => StatusCodes.Status404NotFound,
            DomainErrorKind.Conflict => StatusCodes.Status409Conflict,
            DomainErrorKind.Unprocessable => StatusCodes.Status422UnprocessableEntity,
            _ => StatusCodes.Status400BadRequest,
        };
        var problem = e.Errors is { } errors
            ? new HttpValidationProblemDetails(errors.ToDictionary(kv => kv.Key, kv => kv.Value))
            : new ProblemDetails();
        problem.Status = status;
        problem.Type = ProblemTypes.For(e.Code);
        problem.Title = e.Title;
        problem.Detail = e.Message;
        return problem;
    }

    // A store that is down, overloaded or not set up (a missing table), as opposed to a bug (a malformed request to it stays a 500):
    // every failure the DynamoDB caller would retry (resets, I/O, time-outs, throttles, 5xx) that outlasted its retries.
    private static bool IsUnavailable(Exception e) => e switch
    {
        // A statement cut off by its time-out (statement_timeout, or a lock wait): the database is too busy to answer now.
        Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.QueryCanceled or Npgsql.PostgresErrorCodes.LockNotAvailable } => true,
        Npgsql.NpgsqlException npgsql => npgsql.IsTransient,
        Amazon.DynamoDBv2.Model.ResourceNotFoundException or Amazon.Runtime.AmazonClientException => true,
        // The routing phase kept changing under a write (several steps in a row): nothing was written, retrying is safe.
        StaleRoutingException => true,
        _ => DynamoDbCaller.IsTransient(e, CancellationToken.None),
    };

    // Say where the body went wrong (JSON path), never which server types were involved.
    private static string ClientSafeDetail(BadHttpRequestException e) => e.InnerException switch
    {
        System.Text.Json.JsonException json =>
            $"The request body is not valid JSON for this endpoint (at '{json.Path ?? "$"}'): check syntax, field types and that numbers are whole where required.",
        _ when e.StatusCode == StatusCodes.Status413PayloadTooLarge => "The request body is larger than 64 KiB.",
        _ => e.Message,
    };
}
