using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Services.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary><c>POST /rooms/{roomId}/upgrade</c>.</summary>
internal static class RoomUpgrade
{
    public static void MapRoomUpgrade(this IEndpointRouteBuilder routes) =>
        routes.MapPost("/_matrix/client/v3/rooms/{roomId}/upgrade", UpgradeAsync).RequireAccessToken();

    private static async Task UpgradeAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var replacement = await http.RequestServices.GetRequiredService<RoomUpgrades>().UpgradeAsync(
            http.Caller().UserId, http.Route("roomId"), body.RequiredString("new_version"), body.OptionalStrings("additional_creators"), http.RequestAborted);
        await http.WriteJsonAsync(new JsonObject { ["replacement_room"] = replacement });
    }
}
