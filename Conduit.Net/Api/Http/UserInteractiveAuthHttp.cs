using Conduit.Net.Services.Users;
using Microsoft.AspNetCore.Http;

namespace Conduit.Net.Api.Http;

/// <summary>User-interactive auth at the HTTP edge: what the session binds to, and the 401 challenge.</summary>
public static class UserInteractiveAuthHttp
{
    /// <summary>The request as user-interactive auth sees it: method and path, and the body split from its <c>auth</c>.</summary>
    public static UiaRequest UiaRequest(this HttpContext http, System.Text.Json.Nodes.JsonObject body) =>
        Services.Users.UiaRequest.From($"{http.Request.Method} {http.Request.Path}", body);

    /// <summary>
    /// The spec's 401 auth response (flows, params, session, completed). It is not an error body: a
    /// client that finds an <c>errcode</c> here shows it as a failed stage.
    /// </summary>
    public static Task WriteChallengeAsync(this HttpContext http, UiaChallenge challenge) =>
        http.WriteJsonAsync(challenge.ToJson(), StatusCodes.Status401Unauthorized);
}
