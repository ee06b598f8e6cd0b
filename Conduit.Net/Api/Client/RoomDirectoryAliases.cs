using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Services.Federation;
using Conduit.Net.Services.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// Room aliases: <c>PUT/GET/DELETE /directory/room/{roomAlias}</c> (resolving needs no token; another server's alias is asked of that server) and
/// <c>GET /rooms/{roomId}/aliases</c>.
/// </summary>
internal static class RoomDirectoryAliases
{
    private const string AliasPath = "/_matrix/client/v3/directory/room/{roomAlias}";

    public static void MapRoomDirectoryAliases(this IEndpointRouteBuilder routes)
    {
        routes.MapPut(AliasPath, CreateAsync).RequireAccessToken();
        routes.MapGet(AliasPath, ResolveAsync);
        routes.MapDelete(AliasPath, DeleteAsync).RequireAccessToken();
        routes.MapGet("/_matrix/client/v3/rooms/{roomId}/aliases", LocalAliasesAsync).RequireAccessToken();
    }

    private static async Task CreateAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        await Service(http).CreateAsync(http.Caller().UserId, http.Route("roomAlias"), body.RequiredString("room_id"));
        await http.WriteEmptyObjectAsync();
    }

    private static async Task ResolveAsync(HttpContext http)
    {
        var (roomId, servers) = await http.RequestServices.GetRequiredService<AliasResolver>().ResolveAsync(http.Route("roomAlias"), http.RequestAborted);
        await http.WriteJsonAsync(new JsonObject
        {
            ["room_id"] = roomId,
            ["servers"] = new JsonArray([.. servers.Select(s => (JsonNode)s)]),
        });
    }

    private static async Task DeleteAsync(HttpContext http)
    {
        var caller = http.Caller();
        await Service(http).DeleteAsync(caller.UserId, caller.IsAdmin, http.Route("roomAlias"));
        await http.WriteEmptyObjectAsync();
    }

    private static Task LocalAliasesAsync(HttpContext http)
    {
        var aliases = Service(http).LocalAliases(http.Caller().UserId, http.Route("roomId"));
        return http.WriteJsonAsync(new JsonObject { ["aliases"] = new JsonArray([.. aliases.Select(a => (JsonNode)a)]) });
    }

    private static RoomAliases Service(HttpContext http) => http.RequestServices.GetRequiredService<RoomAliases>();
}
