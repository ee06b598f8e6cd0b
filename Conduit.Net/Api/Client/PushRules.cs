using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.Push;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Conduit.Net.Api.Client;

/// <summary>
/// <c>GET /_matrix/client/v3/pushrules/</c>: the caller's push rules. Nothing lets a user add or
/// change rules yet, so they are the spec's predefined rules, the ones the server evaluates for
/// unread counts. Clients read them before their first sync: matrix-js-sdk retries this request
/// and never starts syncing while it fails.
/// </summary>
internal static class PushRules
{
    public static void MapPushRules(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/_matrix/client/v3/pushrules/", GetPushRulesAsync).RequireAccessToken();

    private static Task GetPushRulesAsync(HttpContext http) =>
        http.WriteJsonAsync(new JsonObject { ["global"] = PredefinedPushRules.For(UserId.Parse(http.Caller().UserId)).ToJson() });
}
