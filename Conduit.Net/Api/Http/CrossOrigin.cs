using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Conduit.Net.Api.Http;

/// <summary>
/// The CORS headers the client-server spec asks of every response, and an answer to every
/// <c>OPTIONS</c> preflight, so that browser clients work from any origin.
/// </summary>
public static class CrossOrigin
{
    public static IApplicationBuilder UseMatrixCors(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        AddHeaders(http.Response);
        if (HttpMethods.IsOptions(http.Request.Method))
        {
            http.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        await next(http);
    });

    public static void AddHeaders(HttpResponse response)
    {
        var headers = response.Headers;
        headers.AccessControlAllowOrigin = "*";
        headers.AccessControlAllowMethods = "GET, POST, PUT, DELETE, OPTIONS";
        headers.AccessControlAllowHeaders = "X-Requested-With, Content-Type, Authorization";
    }
}
