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

    private static Task GetPublicRoomsAsync(HttpContext http)
    {
        int? limit = null;
        if (http.Query("limit") is { } text)
        {
            limit = int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw MatrixException.InvalidParam("limit must be an integer.");
        }
        var page = Service(http).List(new PublicRoomsQuery(limit, http.Query("since"), http.Query("server")));
        return http.WriteJsonAsync(Format(page));
    }

    private static async Task QueryPublicRoomsAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var filter = body.OptionalObject("filter");
        var query = new PublicRoomsQuery(
            body.OptionalInt("limit"),
            body.OptionalString("since"),
            http.Query("server"),
            filter?.OptionalString("generic_search_term"),
            filter is null ? null : RoomTypes(filter),
            body.OptionalBool("include_all_networks"),
            body.OptionalString("third_party_instance_id"));
        await http.WriteJsonAsync(Format(Service(http).List(query)));
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

    private static JsonObject Format(PublicRoomsPage page)
    {
        var chunk = new JsonArray();
        foreach (var room in page.Chunk)
        {
            var summary = room.Summary;
            var entry = new JsonObject
            {
                ["room_id"] = summary.RoomId,
                ["num_joined_members"] = room.JoinedMembers,
                ["world_readable"] = summary.WorldReadable,
                ["guest_can_join"] = summary.GuestCanJoin,
            };
            AddIfSet(entry, "name", summary.Name);
            AddIfSet(entry, "topic", summary.Topic);
            AddIfSet(entry, "canonical_alias", summary.CanonicalAlias);
            AddIfSet(entry, "avatar_url", summary.AvatarUrl);
            AddIfSet(entry, "join_rule", summary.JoinRule);
            AddIfSet(entry, "room_type", summary.RoomType);
            chunk.Add((JsonNode)entry);
        }
        var response = new JsonObject { ["chunk"] = chunk, ["total_room_count_estimate"] = page.TotalRoomCountEstimate };
        AddIfSet(response, "next_batch", page.NextBatch);
        AddIfSet(response, "prev_batch", page.PrevBatch);
        return response;
    }

    private static void AddIfSet(JsonObject target, string name, string? value)
    {
        if (value is not null)
            target[name] = value;
    }

    private static PublicRoomDirectory Service(HttpContext http) => http.RequestServices.GetRequiredService<PublicRoomDirectory>();
}
