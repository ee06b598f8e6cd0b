using System.Globalization;
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
/// <c>/state_ids/{roomId}?event_id=</c>, <c>/event/{eventId}</c>, <c>/event_auth/{roomId}/{eventId}</c>,
/// <c>/backfill/{roomId}?v=&amp;limit=</c>, <c>POST /get_missing_events/{roomId}</c> and
/// <c>/query/directory?room_alias=</c>.
/// </summary>
internal static class FederationRoomReading
{
    public static void MapFederationRoomReading(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/_matrix/federation/v1/state/{roomId}", http => StateAsync(http, idsOnly: false)).RequireServerSignature();
        routes.MapGet("/_matrix/federation/v1/state_ids/{roomId}", http => StateAsync(http, idsOnly: true)).RequireServerSignature();
        routes.MapGet("/_matrix/federation/v1/event/{eventId}", EventAsync).RequireServerSignature();
        routes.MapGet("/_matrix/federation/v1/event_auth/{roomId}/{eventId}", EventAuthAsync).RequireServerSignature();
        routes.MapGet("/_matrix/federation/v1/backfill/{roomId}", BackfillAsync).RequireServerSignature();
        routes.MapPost("/_matrix/federation/v1/get_missing_events/{roomId}", GetMissingEventsAsync).RequireServerSignature();
        routes.MapGet("/_matrix/federation/v1/query/directory", QueryDirectoryAsync).RequireServerSignature();
    }

    private static Task BackfillAsync(HttpContext http)
    {
        var from = http.Request.Query["v"].OfType<string>().ToList();
        if (from.Count == 0)
            throw MatrixException.MissingParam("v is required.");
        var limitText = http.Query("limit") ?? throw MatrixException.MissingParam("limit is required.");
        if (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var limit))
            throw MatrixException.InvalidParam("limit must be a non-negative integer.");
        return http.WriteJsonAsync(History(http).Backfill(http.OriginServer(), http.Route("roomId"), from, limit));
    }

    private static async Task GetMissingEventsAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        if (body["earliest_events"] is null || body["latest_events"] is null)
            throw MatrixException.BadJson("earliest_events and latest_events are required.");
        var answer = History(http).GetMissingEvents(
            http.OriginServer(),
            http.Route("roomId"),
            body.OptionalStrings("earliest_events"),
            body.OptionalStrings("latest_events"),
            body.OptionalInt("limit") ?? 10,
            body.OptionalInt("min_depth") ?? 0);
        await http.WriteJsonAsync(answer);
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

    private static FederationHistory History(HttpContext http) => http.RequestServices.GetRequiredService<FederationHistory>();
}
