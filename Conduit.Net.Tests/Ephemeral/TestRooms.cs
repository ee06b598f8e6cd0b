using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Ephemeral;

/// <summary>
/// Creating, joining and talking in rooms over HTTP, for tests whose subject is something else; the
/// requests are <see cref="RoomApi"/>'s, under the names these tests use.
/// </summary>
internal static class TestRooms
{
    /// <summary>Creates a public room (anyone may join it) and returns its id.</summary>
    public static Task<string> CreatePublicRoomAsync(this TestServer server, TestSession creator) =>
        RoomApi.CreateRoomAsync(server, creator, new JsonObject { ["preset"] = "public_chat" });

    public static Task JoinAsync(this TestServer server, TestSession session, string roomId) => RoomApi.JoinAsync(server, session, roomId);

    public static Task LeaveAsync(this TestServer server, TestSession session, string roomId) => RoomApi.LeaveAsync(server, session, roomId);

    /// <summary>Sends an <c>m.room.message</c> (optionally with extra content) and returns its event id.</summary>
    public static async Task<string> SendMessageAsync(this TestServer server, TestSession session, string roomId, string body, JsonObject? extra = null)
    {
        var content = new JsonObject { ["msgtype"] = "m.text", ["body"] = body };
        foreach (var (key, value) in extra ?? [])
            content[key] = value?.DeepClone();
        var (status, response) = await RoomApi.SendRawAsync(server, session, roomId, "m.room.message", content);
        Assert.That(status, Is.EqualTo(200), response?.ToJsonString());
        return (string)response!["event_id"]!;
    }
}
