using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Spaces;

/// <summary>Space requests over HTTP: spaces and their children as clients make them, and <c>GET /hierarchy</c>.</summary>
internal static class SpaceApi
{
    /// <summary>A space (<c>m.space</c> room type) created by <paramref name="creator"/>, public unless <paramref name="preset"/> says otherwise.</summary>
    public static Task<string> CreateSpaceAsync(this TestServer server, TestSession creator, string name, string preset = "public_chat") =>
        server.CreateRoomAsync(creator, new JsonObject
        {
            ["preset"] = preset,
            ["name"] = name,
            ["creation_content"] = new JsonObject { ["type"] = "m.space" },
        });

    /// <summary>Adds <paramref name="childId"/> to the space with an <c>m.space.child</c> naming <paramref name="via"/>, plus <paramref name="extra"/>.</summary>
    public static Task AddChildAsync(this TestServer server, TestSession who, string spaceId, string childId, string via, JsonObject? extra = null)
    {
        var content = new JsonObject { ["via"] = new JsonArray(via) };
        foreach (var (key, value) in extra ?? [])
            content[key] = value?.DeepClone();
        return server.PutStateAsync(who, spaceId, "m.space.child", childId, content);
    }

    public static Task<(int Status, JsonNode? Body)> HierarchyRawAsync(this TestServer server, TestSession who, string roomId, string query = "") =>
        server.SendAsync(HttpMethod.Get, $"/_matrix/client/v1/rooms/{RoomApi.Escape(roomId)}/hierarchy{(query.Length > 0 ? "?" + query : "")}", accessToken: who.AccessToken);

    /// <summary>One page of the hierarchy, asserted to be a 200.</summary>
    public static async Task<JsonObject> HierarchyAsync(this TestServer server, TestSession who, string roomId, string query = "")
    {
        var (status, body) = await server.HierarchyRawAsync(who, roomId, query);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return body!.AsObject();
    }

    /// <summary>The room ids of a hierarchy page, in order.</summary>
    public static List<string> RoomIds(JsonObject page) => [.. page["rooms"]!.AsArray().Select(r => (string)r!["room_id"]!)];

    /// <summary>The entry of one room on a hierarchy page.</summary>
    public static JsonObject Room(JsonObject page, string roomId) =>
        page["rooms"]!.AsArray().Select(r => r!.AsObject()).Single(r => (string)r["room_id"]! == roomId);
}
