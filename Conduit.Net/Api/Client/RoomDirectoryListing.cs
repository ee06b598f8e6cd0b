using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Directories;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// The published room directory: <c>GET/PUT /directory/list/room/{roomId}</c> (reading needs no
/// token) and <c>GET /publicRooms</c> (no token, as the spec has it) and <c>POST /publicRooms</c>
/// (with a token, and a filter).
/// </summary>
internal static class RoomDirectoryListing
{
    private const string VisibilityPath = "/_matrix/client/v3/directory/list/room/{roomId}";
    private const string PublicRoomsPath = "/_matrix/client/v3/publicRooms";

    public static void MapRoomDirectoryListing(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(VisibilityPath, GetVisibilityAsync);
        routes.MapPut(VisibilityPath, SetVisibilityAsync).RequireAccessToken();
        routes.MapGet(PublicRoomsPath, GetPublicRoomsAsync);
        routes.MapPost(PublicRoomsPath, QueryPublicRoomsAsync).RequireAccessToken();
    }

    private static Task GetVisibilityAsync(HttpContext http) =>
        http.WriteJsonAsync(new JsonObject { ["visibility"] = Service(http).GetVisibility(http.Route("roomId")) });

    /// <summary>The body's <c>visibility</c> defaults to <c>public</c>, as the spec says.</summary>
    private static async Task SetVisibilityAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var caller = http.Caller();
        await Service(http).SetVisibilityAsync(caller.UserId, caller.IsAdmin, http.Route("roomId"), body.OptionalString("visibility") ?? PublicRoomDirectory.Public);
        await http.WriteEmptyObjectAsync();
    }

    private static async Task GetPublicRoomsAsync(HttpContext http)
    {
        var query = new PublicRoomsQuery(QueryLimit(http), http.Query("since"), http.Query("server"));
        await http.WriteJsonAsync(await Service(http).ListAsync(query, http.RequestAborted));
    }

    private static async Task QueryPublicRoomsAsync(HttpContext http)
    {
        var query = BodyQuery(await http.ReadObjectAsync(), http.Query("server"));
        await http.WriteJsonAsync(await Service(http).ListAsync(query, http.RequestAborted));
    }

    /// <summary>The <c>limit</c> query parameter, shared with the federation API's <c>GET /publicRooms</c>.</summary>
    internal static int? QueryLimit(HttpContext http)
    {
        if (http.Query("limit") is not { } text)
            return null;
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : throw MatrixException.InvalidParam("limit must be an integer.");
    }

    /// <summary>A <c>POST /publicRooms</c> body, the same in the client and the federation API.</summary>
    internal static PublicRoomsQuery BodyQuery(JsonObject body, string? server)
    {
        var filter = body.OptionalObject("filter");
        return new PublicRoomsQuery(
            body.OptionalInt("limit"),
            body.OptionalString("since"),
            server,
            filter?.OptionalString("generic_search_term"),
            filter is null ? null : RoomTypes(filter),
            body.OptionalBool("include_all_networks"),
            body.OptionalString("third_party_instance_id"));
    }

    /// <summary><c>filter.room_types</c>: strings, and <c>null</c> for rooms without a type.</summary>
    private static List<string?>? RoomTypes(JsonObject filter)
    {
        if (filter.OptionalArray("room_types") is not { } array)
            return null;
        var types = new List<string?>(array.Count);
        foreach (var item in array)
        {
            types.Add(item switch
            {
                null => null,
                JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
                _ => throw MatrixException.BadJson("filter.room_types must hold strings and nulls."),
            });
        }
        return types;
    }

    private static PublicRoomDirectory Service(HttpContext http) => http.RequestServices.GetRequiredService<PublicRoomDirectory>();
}
