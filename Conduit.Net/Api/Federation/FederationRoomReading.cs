using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Federation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Federation;

/// <summary>
/// The room-reading federation endpoints, behind X-Matrix: <c>GET /state/{roomId}?event_id=</c>,
/// <c>/state_ids/{roomId}?event_id=</c>, <c>/event/{eventId}</c>, <c>/event_auth/{roomId}/{eventId}</c>
/// and <c>/query/directory?room_alias=</c>.
/// </summary>
internal static class FederationRoomReading
{
    public static void MapFederationRoomReading(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/_matrix/federation/v1/state/{roomId}", http => StateAsync(http, idsOnly: false)).RequireServerSignature();
        routes.MapGet("/_matrix/federation/v1/state_ids/{roomId}", http => StateAsync(http, idsOnly: true)).RequireServerSignature();
        routes.MapGet("/_matrix/federation/v1/event/{eventId}", EventAsync).RequireServerSignature();
        routes.MapGet("/_matrix/federation/v1/event_auth/{roomId}/{eventId}", EventAuthAsync).RequireServerSignature();
        routes.MapGet("/_matrix/federation/v1/query/directory", QueryDirectoryAsync).RequireServerSignature();
    }

    private static Task StateAsync(HttpContext http, bool idsOnly)
    {
        var eventId = http.Query("event_id") ?? throw MatrixException.MissingParam("event_id is required.");
        return http.WriteJsonAsync(Rooms(http).StateAt(http.OriginServer(), http.Route("roomId"), eventId, idsOnly));
    }

    private static Task EventAsync(HttpContext http) =>
        http.WriteJsonAsync(Rooms(http).Event(http.OriginServer(), http.Route("eventId")));

    private static Task EventAuthAsync(HttpContext http) =>
        http.WriteJsonAsync(Rooms(http).EventAuthChain(http.OriginServer(), http.Route("roomId"), http.Route("eventId")));

    private static Task QueryDirectoryAsync(HttpContext http)
    {
        var alias = http.Query("room_alias") ?? throw MatrixException.MissingParam("room_alias is required.");
        return http.WriteJsonAsync(Rooms(http).QueryDirectory(alias));
    }

    private static FederationRooms Rooms(HttpContext http) => http.RequestServices.GetRequiredService<FederationRooms>();
}
