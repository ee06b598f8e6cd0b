using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Relations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>The thread list: <c>GET /v1/rooms/{roomId}/threads</c> with <c>include</c>, <c>from</c> and <c>limit</c>.</summary>
internal static class Threads
{
    public static void MapThreads(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/_matrix/client/v1/rooms/{roomId}/threads", ThreadsAsync).RequireAccessToken();

    private static Task ThreadsAsync(HttpContext http)
    {
        var caller = http.Caller();
        var participatedOnly = http.Query("include") switch
        {
            null or "all" => false,
            "participated" => true,
            _ => throw MatrixException.InvalidParam("include must be \"all\" or \"participated\"."),
        };
        var page = http.RequestServices.GetRequiredService<RelationService>().Threads(
            caller.UserId,
            caller.DeviceId,
            http.Route("roomId"),
            participatedOnly,
            Relations.Token(http, "from"),
            Relations.Limit(http) ?? RelationService.DefaultThreadsLimit);
        var body = new JsonObject { ["chunk"] = page.Chunk };
        if (page.NextBatch is not null)
            body["next_batch"] = page.NextBatch;
        return http.WriteJsonAsync(body);
    }
}
