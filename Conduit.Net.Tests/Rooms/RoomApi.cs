using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;

namespace Conduit.Net.Tests.Rooms;

/// <summary>Room requests over HTTP, for tests whose subject is the room endpoints.</summary>
internal static class RoomApi
{
    public const string Client = "/_matrix/client/v3";

    private static int _txn;

    public static string Escape(string value) => Uri.EscapeDataString(value);

    public static string RoomPath(string roomId) => $"{Client}/rooms/{Escape(roomId)}";

    public static string NewTxnId() => $"txn{Interlocked.Increment(ref _txn)}";

    public static Task<(int Status, JsonNode? Body)> CreateRoomRawAsync(this TestServer server, TestSession who, JsonObject? body = null) =>
        server.SendAsync(HttpMethod.Post, $"{Client}/createRoom", body ?? [], who.AccessToken);

    public static async Task<string> CreateRoomAsync(this TestServer server, TestSession who, JsonObject? body = null)
    {
        var (status, json) = await server.CreateRoomRawAsync(who, body);
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
        return (string)json!["room_id"]!;
    }

    public static Task<(int Status, JsonNode? Body)> SendRawAsync(this TestServer server, TestSession who, string roomId, string type, JsonObject content, string? txnId = null) =>
        server.SendAsync(HttpMethod.Put, $"{RoomPath(roomId)}/send/{Escape(type)}/{Escape(txnId ?? NewTxnId())}", content, who.AccessToken);

    public static async Task<string> SendTextAsync(this TestServer server, TestSession who, string roomId, string text, string? txnId = null)
    {
        var (status, json) = await server.SendRawAsync(who, roomId, "m.room.message", new JsonObject { ["msgtype"] = "m.text", ["body"] = text }, txnId);
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
        return (string)json!["event_id"]!;
    }

    public static Task<(int Status, JsonNode? Body)> PutStateRawAsync(this TestServer server, TestSession who, string roomId, string type, string stateKey, JsonObject content) =>
        server.SendAsync(HttpMethod.Put, $"{RoomPath(roomId)}/state/{Escape(type)}/{Escape(stateKey)}", content, who.AccessToken);

    public static async Task<string> PutStateAsync(this TestServer server, TestSession who, string roomId, string type, string stateKey, JsonObject content)
    {
        var (status, json) = await server.PutStateRawAsync(who, roomId, type, stateKey, content);
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
        return (string)json!["event_id"]!;
    }

    public static Task<(int Status, JsonNode? Body)> GetStateRawAsync(this TestServer server, TestSession who, string roomId, string type, string stateKey = "", string? format = null) =>
        server.SendAsync(HttpMethod.Get, $"{RoomPath(roomId)}/state/{Escape(type)}/{Escape(stateKey)}{(format is null ? "" : "?format=" + format)}", accessToken: who.AccessToken);

    public static async Task<JsonNode> GetStateAsync(this TestServer server, TestSession who, string roomId, string type, string stateKey = "")
    {
        var (status, json) = await server.GetStateRawAsync(who, roomId, type, stateKey);
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
        return json!;
    }

    public static Task<(int Status, JsonNode? Body)> PostRawAsync(this TestServer server, TestSession who, string path, JsonObject? body = null) =>
        server.SendAsync(HttpMethod.Post, path, body ?? [], who.AccessToken);

    public static async Task JoinAsync(this TestServer server, TestSession who, string roomIdOrAlias)
    {
        var (status, json) = await server.PostRawAsync(who, $"{Client}/join/{Escape(roomIdOrAlias)}");
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
    }

    public static async Task InviteAsync(this TestServer server, TestSession who, string roomId, string userId)
    {
        var (status, json) = await server.PostRawAsync(who, $"{RoomPath(roomId)}/invite", new JsonObject { ["user_id"] = userId });
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
    }

    public static async Task LeaveAsync(this TestServer server, TestSession who, string roomId)
    {
        var (status, json) = await server.PostRawAsync(who, $"{RoomPath(roomId)}/leave");
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
    }
}
