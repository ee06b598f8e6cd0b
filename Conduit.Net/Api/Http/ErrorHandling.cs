using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Api.Http;

/// <summary>
/// The one error handler: <see cref="MatrixException"/> becomes its errcode and status, anything
/// else a sanitized 500 <c>M_UNKNOWN</c> plus a full log entry; requests no route matched become
/// 404 (unknown path) or 405 (known path, wrong method) <c>M_UNRECOGNIZED</c>.
/// </summary>
public static class ErrorHandling
{
    public static IApplicationBuilder UseMatrixErrors(this IApplicationBuilder app) => app.Use(HandleAsync);

    private static async Task HandleAsync(HttpContext http, RequestDelegate next)
    {
        try
        {
            await next(http);
        }
        catch (MatrixException e)
        {
            await WriteErrorAsync(http, e);
            return;
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's verdict on the bytes of the request (over its wire limit, broken framing):
            // the client's fault, so neither a 500 nor an error-level log.
            Logger(http)?.LogDebug(e, "Unreadable request {Method} {Path}", http.Request.Method, http.Request.Path);
            await WriteErrorAsync(http, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? MatrixException.TooLarge("The request body is larger than this server accepts.")
                : new MatrixException(ErrorCode.BadRequest, "The request could not be read."));
            return;
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            Logger(http)?.LogError(e, "Unhandled error in {Method} {Path}", http.Request.Method, http.Request.Path);
            await WriteErrorAsync(http, new MatrixException(ErrorCode.Unknown, "Internal server error."));
            return;
        }

        if (http.Response.HasStarted)
            return;
        if (http.Response.StatusCode == StatusCodes.Status404NotFound && http.GetEndpoint() is null)
            await WriteErrorAsync(http, MatrixException.Unrecognized("Unrecognized request."));
        else if (http.Response.StatusCode == StatusCodes.Status405MethodNotAllowed)
            await WriteErrorAsync(http, new MatrixException(ErrorCode.MethodNotAllowed, "Method not allowed for this endpoint."));
    }

    private static ILogger? Logger(HttpContext http) =>
        http.RequestServices.GetService(typeof(ILoggerFactory)) is ILoggerFactory factory
            ? factory.CreateLogger("Conduit.Net.Api")
            : null;

    public static async Task WriteErrorAsync(HttpContext http, MatrixException error)
    {
        if (http.Response.HasStarted)
            return;
        http.Response.Clear();
        CrossOrigin.AddHeaders(http.Response);
        if (error.RetryAfterMs is { } retry)
            http.Response.Headers.RetryAfter = Math.Max(1, (retry + 999) / 1000).ToString();
        JsonObject body = error.ToBody();
        await http.WriteJsonAsync(body, error.Code.Status);
    }
}
