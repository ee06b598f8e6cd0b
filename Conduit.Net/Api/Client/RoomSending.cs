using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Services.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// Sending into a room: message events (<c>PUT /send/{eventType}/{txnId}</c>), state events
/// (<c>PUT /state/{eventType}/{stateKey}</c>, the state key optional) and redactions
/// (<c>PUT /redact/{eventId}/{txnId}</c>).
/// </summary>
internal static class RoomSending
{
    private const string Rooms = "/_matrix/client/v3/rooms/{roomId}";

    public static void MapRoomSending(this IEndpointRouteBuilder routes)
    {
        routes.MapPut(Rooms + "/send/{eventType}/{txnId}", SendAsync).RequireAccessToken();
        routes.MapPut(Rooms + "/state/{eventType}/{stateKey}", SendStateAsync).RequireAccessToken();
        routes.MapPut(Rooms + "/state/{eventType}", SendStateAsync).RequireAccessToken();
        routes.MapPut(Rooms + "/redact/{eventId}/{txnId}", RedactAsync).RequireAccessToken();
    }

    private static async Task SendAsync(HttpContext http)
    {
        var caller = http.Caller();
        var content = await http.ReadObjectAsync();
        var eventId = await Service(http).SendMessageAsync(
            caller.UserId, caller.DeviceId, http.Route("roomId"), http.Route("eventType"), http.Route("txnId"), content, http.RequestAborted);
        await http.WriteJsonAsync(new JsonObject { ["event_id"] = eventId });
    }

    private static async Task SendStateAsync(HttpContext http)
    {
        var content = await http.ReadObjectAsync();
        var stateKey = http.Request.RouteValues.ContainsKey("stateKey") ? http.Route("stateKey") : "";
        var eventId = await Service(http).SendStateAsync(
            http.Caller().UserId, http.Route("roomId"), http.Route("eventType"), stateKey, content, http.RequestAborted);
        await http.WriteJsonAsync(new JsonObject { ["event_id"] = eventId });
    }

    private static async Task RedactAsync(HttpContext http)
    {
        var caller = http.Caller();
        var body = await http.ReadObjectAsync();
        var eventId = await Service(http).RedactAsync(
            caller.UserId, caller.DeviceId, http.Route("roomId"), http.Route("eventId"), http.Route("txnId"), body.OptionalString("reason"), http.RequestAborted);
        await http.WriteJsonAsync(new JsonObject { ["event_id"] = eventId });
    }

    private static RoomService Service(HttpContext http) => http.RequestServices.GetRequiredService<RoomService>();
}
