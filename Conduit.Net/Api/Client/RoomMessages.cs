using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Filters;
using Conduit.Net.Services.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// Room history: <c>GET /rooms/{roomId}/messages</c>, <c>GET /rooms/{roomId}/context/{eventId}</c>
/// and <c>GET /v1/rooms/{roomId}/timestamp_to_event</c>.
/// </summary>
internal static class RoomMessages
{
    public static void MapRoomMessages(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/_matrix/client/v3/rooms/{roomId}/messages", MessagesAsync).RequireAccessToken();
        routes.MapGet("/_matrix/client/v3/rooms/{roomId}/context/{eventId}", ContextAsync).RequireAccessToken();
        routes.MapGet("/_matrix/client/v1/rooms/{roomId}/timestamp_to_event", TimestampToEventAsync).RequireAccessToken();
    }

    private static async Task MessagesAsync(HttpContext http)
    {
        var caller = http.Caller();
        var backwards = Direction(http) ?? throw MatrixException.MissingParam("dir is required: \"b\" or \"f\".");
        var filter = Filter(http);
        var page = await Service(http).MessagesAsync(
            caller.UserId,
            caller.DeviceId,
            http.Route("roomId"),
            Token(http, "from"),
            Token(http, "to"),
            backwards,
            Limit(http) ?? filter.Limit ?? RoomHistory.DefaultLimit,
            filter,
            http.RequestAborted);
        var body = new JsonObject { ["start"] = page.Start };
        if (page.End is not null)
            body["end"] = page.End;
        body["chunk"] = page.Chunk;
        if (page.State.Count > 0)
            body["state"] = page.State;
        await http.WriteJsonAsync(body);
    }

    private static Task ContextAsync(HttpContext http)
    {
        var caller = http.Caller();
        var filter = Filter(http);
        var context = Service(http).Context(
            caller.UserId, caller.DeviceId, http.Route("roomId"), http.Route("eventId"), Limit(http) ?? filter.Limit ?? RoomHistory.DefaultLimit, filter);
        return http.WriteJsonAsync(context);
    }

    private static Task TimestampToEventAsync(HttpContext http)
    {
        var backwards = Direction(http) ?? throw MatrixException.MissingParam("dir is required: \"b\" or \"f\".");
        var ts = http.Query("ts") is { } text && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw MatrixException.InvalidParam("ts must be a timestamp in milliseconds.");
        var (eventId, originServerTs) = Service(http).TimestampToEvent(http.Caller().UserId, http.Route("roomId"), ts, backwards);
        return http.WriteJsonAsync(new JsonObject { ["event_id"] = eventId, ["origin_server_ts"] = originServerTs });
    }

    private static bool? Direction(HttpContext http) =>
        http.Query("dir") switch
        {
            null => null,
            "b" => true,
            "f" => false,
            _ => throw MatrixException.InvalidParam("dir must be \"b\" or \"f\"."),
        };

    private static long? Token(HttpContext http, string name) =>
        http.Query(name) switch
        {
            null or "" => null,
            var token when TimelineToken.TryParse(token, out var position) => position,
            _ => throw MatrixException.InvalidParam($"{name} is not a valid pagination token."),
        };

    private static int? Limit(HttpContext http) =>
        http.Query("limit") switch
        {
            null => null,
            var text when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) => limit,
            _ => throw MatrixException.InvalidParam("limit must be a non-negative integer."),
        };

    /// <summary>
    /// The <c>filter</c> query parameter: inline JSON only, as the spec defines it for these
    /// endpoints (no filter ids), with the errors of an inline filter on <c>/sync</c>.
    /// </summary>
    private static RoomEventFilter Filter(HttpContext http) =>
        http.Query("filter") is { Length: > 0 } text ? FilterParser.ParseInlineRoomEventFilter(text) : RoomEventFilter.Everything;

    private static RoomHistory Service(HttpContext http) => http.RequestServices.GetRequiredService<RoomHistory>();
}
