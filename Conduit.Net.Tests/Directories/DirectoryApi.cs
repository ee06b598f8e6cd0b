using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Directories;

/// <summary>Room and user directory requests over HTTP.</summary>
internal static class DirectoryApi
{
    public const string PublicRoomsPath = $"{RoomApi.Client}/publicRooms";
    public const string UserSearchPath = $"{RoomApi.Client}/user_directory/search";

    public static string VisibilityPath(string roomId) => $"{RoomApi.Client}/directory/list/room/{RoomApi.Escape(roomId)}";

    public static Task<(int Status, JsonNode? Body)> SetVisibilityRawAsync(this TestServer server, TestSession? who, string roomId, JsonObject body) =>
        server.SendAsync(HttpMethod.Put, VisibilityPath(roomId), body, who?.AccessToken);

    public static async Task<string?> GetVisibilityAsync(this TestServer server, string roomId)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Get, VisibilityPath(roomId));
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return (string?)body!["visibility"];
    }

    /// <summary>A room created published, with the public_chat preset and whatever else <paramref name="extra"/> sets.</summary>
    public static Task<string> CreatePublicRoomAsync(this TestServer server, TestSession who, JsonObject? extra = null)
    {
        var body = new JsonObject { ["visibility"] = "public", ["preset"] = "public_chat" };
        foreach (var (key, value) in extra ?? [])
            body[key] = value?.DeepClone();
        return server.CreateRoomAsync(who, body);
    }

    public static async Task<JsonNode> QueryPublicRoomsAsync(this TestServer server, TestSession who, JsonObject body)
    {
        var (status, json) = await server.SendAsync(HttpMethod.Post, PublicRoomsPath, body, who.AccessToken);
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
        return json!;
    }

    /// <summary>The rooms of a POST /publicRooms answer whose name, topic or alias holds <paramref name="term"/>.</summary>
    public static async Task<JsonArray> SearchRoomsAsync(this TestServer server, TestSession who, string term, JsonObject? filter = null)
    {
        var body = new JsonObject { ["filter"] = filter ?? [] };
        body["filter"]!["generic_search_term"] = term;
        return (await server.QueryPublicRoomsAsync(who, body))["chunk"]!.AsArray();
    }

    public static List<string> RoomIds(this JsonNode chunk) => [.. chunk.AsArray().Select(r => (string)r!["room_id"]!)];

    public static async Task SetDisplayNameAsync(this TestServer server, TestSession who, string displayName)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Put, $"{RoomApi.Client}/profile/{RoomApi.Escape(who.UserId)}/displayname",
            new JsonObject { ["displayname"] = displayName }, who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
    }

    public static Task<(int Status, JsonNode? Body)> SearchUsersRawAsync(this TestServer server, TestSession who, JsonObject body) =>
        server.SendAsync(HttpMethod.Post, UserSearchPath, body, who.AccessToken);

    public static async Task<JsonNode> SearchUsersAsync(this TestServer server, TestSession who, string term, int? limit = null)
    {
        var body = new JsonObject { ["search_term"] = term };
        if (limit is not null)
            body["limit"] = limit;
        var (status, json) = await server.SearchUsersRawAsync(who, body);
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
        return json!;
    }

    public static List<string> UserIds(this JsonNode searchResult) => [.. searchResult["results"]!.AsArray().Select(r => (string)r!["user_id"]!)];
}
