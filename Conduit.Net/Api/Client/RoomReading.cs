using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// Reading a room's state and single events: <c>GET /state</c>, <c>GET /state/{eventType}/{stateKey}</c>
/// (with <c>format=content|event</c>) and <c>GET /event/{eventId}</c>.
/// </summary>
internal static class RoomReading
{
    private const string Rooms = "/_matrix/client/v3/rooms/{roomId}";

    public static void MapRoomReading(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Rooms + "/state", GetStateAsync).RequireAccessToken();
        routes.MapGet(Rooms + "/state/{eventType}/{stateKey}", GetStateEventAsync).RequireAccessToken();
        routes.MapGet(Rooms + "/state/{eventType}", GetStateEventAsync).RequireAccessToken();
        routes.MapGet(Rooms + "/event/{eventId}", GetEventAsync).RequireAccessToken();
    }

    private static Task GetStateAsync(HttpContext http) =>
        http.WriteJsonAsync(Service(http).GetState(http.Caller().UserId, http.Route("roomId")));

    private static Task GetStateEventAsync(HttpContext http)
    {
        var stateKey = http.Request.RouteValues.ContainsKey("stateKey") ? http.Route("stateKey") : "";
        var wholeEvent = http.Query("format") switch
        {
            null or "content" => false,
            "event" => true,
            _ => throw MatrixException.InvalidParam("format must be \"content\" or \"event\"."),
        };
        return http.WriteJsonAsync(Service(http).GetStateEvent(http.Caller().UserId, http.Route("roomId"), http.Route("eventType"), stateKey, wholeEvent));
    }

    private static Task GetEventAsync(HttpContext http)
    {
        var caller = http.Caller();
        return http.WriteJsonAsync(Service(http).GetEvent(caller.UserId, caller.DeviceId, http.Route("roomId"), http.Route("eventId")));
    }

    private static RoomService Service(HttpContext http) => http.RequestServices.GetRequiredService<RoomService>();
}
