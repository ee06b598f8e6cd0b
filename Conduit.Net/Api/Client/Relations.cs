using System.Globalization;
using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Relations;
using Conduit.Net.Services.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// The relationships API: <c>GET /v1/rooms/{roomId}/relations/{eventId}</c>, with <c>/{relType}</c>
/// and <c>/{relType}/{eventType}</c>, and the <c>from</c>/<c>to</c>/<c>limit</c>/<c>dir</c>/<c>recurse</c> parameters.
/// </summary>
internal static class Relations
{
    private const string Path = "/_matrix/client/v1/rooms/{roomId}/relations/{eventId}";

    public static void MapRelations(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Path, RelationsAsync).RequireAccessToken();
        routes.MapGet(Path + "/{relType}", RelationsAsync).RequireAccessToken();
        routes.MapGet(Path + "/{relType}/{eventType}", RelationsAsync).RequireAccessToken();
    }

    private static Task RelationsAsync(HttpContext http)
    {
        var caller = http.Caller();
        var backwards = http.Query("dir") switch
        {
            null or "b" => true,
            "f" => false,
            _ => throw MatrixException.InvalidParam("dir must be \"b\" or \"f\"."),
        };
        var recurse = http.Query("recurse") switch
        {
            null => (bool?)null,
            "true" => true,
            "false" => false,
            _ => throw MatrixException.InvalidParam("recurse must be true or false."),
        };
        var page = http.RequestServices.GetRequiredService<RelationService>().Children(
            caller.UserId,
            caller.DeviceId,
            http.Route("roomId"),
            http.Route("eventId"),
            OptionalRoute(http, "relType"),
            OptionalRoute(http, "eventType"),
            Token(http, "from"),
            Token(http, "to"),
            backwards,
            Limit(http) ?? RelationService.DefaultLimit,
            recurse);
        var body = new JsonObject { ["chunk"] = page.Chunk };
        if (page.NextBatch is not null)
            body["next_batch"] = page.NextBatch;
        if (page.PrevBatch is not null)
            body["prev_batch"] = page.PrevBatch;
        if (page.RecursionDepth is { } depth)
            body["recursion_depth"] = depth;
        return http.WriteJsonAsync(body);
    }

    /// <summary>A pagination token (a timeline position); 400 <c>M_INVALID_PARAM</c> when it is not one.</summary>
    internal static long? Token(HttpContext http, string name) =>
        http.Query(name) switch
        {
            null or "" => null,
            var token when TimelineToken.TryParse(token, out var position) => position,
            _ => throw MatrixException.InvalidParam($"{name} is not a valid pagination token."),
        };

    /// <summary><c>limit</c>: a positive integer; 400 <c>M_INVALID_PARAM</c> otherwise.</summary>
    internal static int? Limit(HttpContext http) =>
        http.Query("limit") switch
        {
            null => null,
            var text when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit > 0 => limit,
            _ => throw MatrixException.InvalidParam("limit must be a positive integer."),
        };

    private static string? OptionalRoute(HttpContext http, string name) =>
        http.Request.RouteValues.ContainsKey(name) ? http.Route(name) : null;
}
