using Conduit.Net.Api.Http;
using Conduit.Net.Services.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// <c>POST /_matrix/client/v3/user/{userId}/openid/request_token</c>: an OpenID token for the caller, which a
/// third party exchanges through <c>/_matrix/federation/v1/openid/userinfo</c>.
/// </summary>
internal static class OpenId
{
    public static void MapOpenId(this IEndpointRouteBuilder routes) =>
        routes.MapPost("/_matrix/client/v3/user/{userId}/openid/request_token", RequestTokenAsync).RequireAccessToken();

    private static async Task RequestTokenAsync(HttpContext http)
    {
        // The body is an empty object reserved for later use; it must still be a JSON object.
        await http.ReadObjectAsync();
        var token = http.RequestServices.GetRequiredService<OpenIdTokens>().Issue(http.Caller().UserId, http.Route("userId"));
        await http.WriteJsonAsync(new OpenIdTokenResponse(token.AccessToken, "Bearer", token.MatrixServerName, token.ExpiresIn), ApiJson.Default.OpenIdTokenResponse);
    }
}

internal sealed record OpenIdTokenResponse(string AccessToken, string TokenType, string MatrixServerName, long ExpiresIn);
