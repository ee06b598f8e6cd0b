using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Relations;

/// <summary>Sending related events and reading relations over HTTP, for the relations tests.</summary>
internal static class RelationsApi
{
    public static string RelationsPath(string roomId, string eventId, string? relType = null, string? eventType = null)
    {
        var path = $"/_matrix/client/v1/rooms/{RoomApi.Escape(roomId)}/relations/{RoomApi.Escape(eventId)}";
        if (relType is not null)
            path += "/" + RoomApi.Escape(relType);
        if (eventType is not null)
            path += "/" + RoomApi.Escape(eventType);
        return path;
    }

    public static string ThreadsPath(string roomId) => $"/_matrix/client/v1/rooms/{RoomApi.Escape(roomId)}/threads";

    public static async Task<string> SendAsync(this TestServer server, TestSession who, string roomId, string type, JsonObject content)
    {
        var (status, json) = await server.SendRawAsync(who, roomId, type, content);
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
        return (string)json!["event_id"]!;
    }

    public static JsonObject Reaction(string targetId, string key) => new()
    {
        ["m.relates_to"] = new JsonObject { ["rel_type"] = "m.annotation", ["event_id"] = targetId, ["key"] = key },
    };

    public static Task<string> ReactAsync(this TestServer server, TestSession who, string roomId, string targetId, string key) =>
        server.SendAsync(who, roomId, "m.reaction", Reaction(targetId, key));

    public static JsonObject Edit(string targetId, string newBody) => new()
    {
        ["msgtype"] = "m.text",
        ["body"] = "* " + newBody,
        ["m.new_content"] = new JsonObject { ["msgtype"] = "m.text", ["body"] = newBody },
        ["m.relates_to"] = new JsonObject { ["rel_type"] = "m.replace", ["event_id"] = targetId },
    };

    public static Task<string> EditAsync(this TestServer server, TestSession who, string roomId, string targetId, string newBody) =>
        server.SendAsync(who, roomId, "m.room.message", Edit(targetId, newBody));

    public static JsonObject ThreadReply(string rootId, string body) => new()
    {
        ["msgtype"] = "m.text",
        ["body"] = body,
        ["m.relates_to"] = new JsonObject { ["rel_type"] = "m.thread", ["event_id"] = rootId },
    };

    public static Task<string> ReplyInThreadAsync(this TestServer server, TestSession who, string roomId, string rootId, string body) =>
        server.SendAsync(who, roomId, "m.room.message", ThreadReply(rootId, body));

    public static async Task<string> RedactAsync(this TestServer server, TestSession who, string roomId, string eventId)
    {
        var (status, json) = await server.SendAsync(HttpMethod.Put, $"{RoomApi.RoomPath(roomId)}/redact/{RoomApi.Escape(eventId)}/{RoomApi.NewTxnId()}", new JsonObject(), who.AccessToken);
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
        return (string)json!["event_id"]!;
    }

    public static async Task<JsonNode> GetEventAsync(this TestServer server, TestSession who, string roomId, string eventId)
    {
        var (status, json) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(eventId)}", accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
        return json!;
    }

    /// <summary>GET on a path with a query string; asserts 200.</summary>
    public static async Task<JsonNode> GetOkAsync(this TestServer server, TestSession who, string pathAndQuery)
    {
        var (status, json) = await server.SendAsync(HttpMethod.Get, pathAndQuery, accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
        return json!;
    }

    /// <summary>The event ids of a response's <c>chunk</c>, in order.</summary>
    public static List<string> ChunkIds(this JsonNode body) =>
        [.. body["chunk"]!.AsArray().Select(e => (string)e!["event_id"]!)];

    /// <summary>The bundled aggregations of a client event, or null.</summary>
    public static JsonNode? Bundle(this JsonNode clientEvent) => clientEvent["unsigned"]?["m.relations"];
}
