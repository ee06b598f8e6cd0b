using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Federation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Http;

/// <summary>The server that signed a federation request, as the X-Matrix check established it.</summary>
public sealed record OriginServer(string ServerName);

/// <summary>
/// The X-Matrix check of every route marked with <see cref="RequireServerSignature{TBuilder}"/>: the body
/// is read once (and rewound for the endpoint), the signature over method, raw target, origin,
/// destination and body is verified, and the <see cref="OriginServer"/> is set for the endpoint.
/// </summary>
public static class ServerSignatures
{
    public static TBuilder RequireServerSignature<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(ServerSignatureRequired.Instance);

    /// <summary>Runs after routing, so that it sees which endpoint matched.</summary>
    public static IApplicationBuilder UseServerSignatures(this IApplicationBuilder app) => app.Use(AuthenticateAsync);

    /// <summary>The verified origin server; only valid on routes that require a server signature.</summary>
    public static string OriginServer(this HttpContext http) =>
        http.Features.Get<OriginServer>()?.ServerName ?? throw new MatrixException(ErrorCode.Unauthorized, "Missing X-Matrix signature.");

    private static async Task AuthenticateAsync(HttpContext http, RequestDelegate next)
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<ServerSignatureRequired>() is null)
        {
            await next(http);
            return;
        }
        http.Request.EnableBuffering();
        var content = await http.ReadObjectOrNullAsync();
        http.Request.Body.Position = 0;

        var target = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (http.Request.PathBase + http.Request.Path + http.Request.QueryString).ToString();
        var origin = await http.RequestServices.GetRequiredService<RequestAuthenticator>()
            .AuthenticateAsync(http.Request.Headers.Authorization, http.Request.Method, target, content, http.RequestAborted);
        http.Features.Set(new OriginServer(origin));
        await next(http);
    }

    private sealed class ServerSignatureRequired
    {
        public static readonly ServerSignatureRequired Instance = new();
    }
}
