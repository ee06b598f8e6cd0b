using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Federation;

/// <summary>
/// <c>GET /_matrix/federation/v1/openid/userinfo?access_token=</c>: the user an OpenID token was issued to,
/// as <c>{"sub": userId}</c>. Not signed with X-Matrix: the caller is a third party, not a server.
/// </summary>
internal static class OpenIdUserInfo
{
    public static void MapOpenIdUserInfo(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/_matrix/federation/v1/openid/userinfo", GetAsync);

    private static Task GetAsync(HttpContext http)
    {
        var token = http.Query("access_token") ?? throw MatrixException.MissingParam("access_token is required.");
        var userId = http.RequestServices.GetRequiredService<OpenIdTokens>().UserOf(token);
        return http.WriteJsonAsync(new JsonObject { ["sub"] = userId });
    }
}
