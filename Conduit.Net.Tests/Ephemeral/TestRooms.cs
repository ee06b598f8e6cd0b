using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;

namespace Conduit.Net.Tests.Ephemeral;

/// <summary>Creating, joining and talking in rooms over HTTP, for tests whose subject is something else.</summary>
internal static class TestRooms
{
    /// <summary>Creates a public room (anyone may join it) and returns its id.</summary>
    public static async Task<string> CreatePublicRoomAsync(this TestServer server, TestSession creator)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Post, "/_matrix/client/v3/createRoom", new JsonObject { ["preset"] = "public_chat" }, creator.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return (string)body!["room_id"]!;
    }

    public static async Task JoinAsync(this TestServer server, TestSession session, string roomId)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Post, $"/_matrix/client/v3/join/{Uri.EscapeDataString(roomId)}", new JsonObject(), session.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
    }

    public static async Task LeaveAsync(this TestServer server, TestSession session, string roomId)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Post, $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/leave", new JsonObject(), session.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
    }

    /// <summary>Sends an <c>m.room.message</c> (optionally with extra content) and returns its event id.</summary>
    public static async Task<string> SendMessageAsync(this TestServer server, TestSession session, string roomId, string body, JsonObject? extra = null)
    {
        var content = new JsonObject { ["msgtype"] = "m.text", ["body"] = body };
        foreach (var (key, value) in extra ?? [])
            content[key] = value?.DeepClone();
        var path = $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/send/m.room.message/{Guid.NewGuid():N}";
        var (status, response) = await server.SendAsync(HttpMethod.Put, path, content, session.AccessToken);
        Assert.That(status, Is.EqualTo(200), response?.ToJsonString());
        return (string)response!["event_id"]!;
    }
}
