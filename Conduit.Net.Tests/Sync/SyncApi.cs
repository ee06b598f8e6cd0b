using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Sync;

/// <summary><c>GET /sync</c> over HTTP, and readers of its response, for the sync tests.</summary>
internal static class SyncApi
{
    public const string SyncPath = "/_matrix/client/v3/sync";

    public static Task<(int Status, JsonNode? Body)> SyncRawAsync(
        this TestServer server, TestSession who, string? since = null, string? filter = null, int? timeoutMs = null, bool fullState = false, string? extra = null)
    {
        var query = new List<string>();
        if (since is not null)
            query.Add("since=" + Uri.EscapeDataString(since));
        if (filter is not null)
            query.Add("filter=" + Uri.EscapeDataString(filter));
        if (timeoutMs is not null)
            query.Add($"timeout={timeoutMs}");
        if (fullState)
            query.Add("full_state=true");
        if (extra is not null)
            query.Add(extra);
        var path = query.Count == 0 ? SyncPath : SyncPath + "?" + string.Join('&', query);
        return server.SendAsync(HttpMethod.Get, path, accessToken: who.AccessToken);
    }

    public static async Task<JsonNode> SyncAsync(
        this TestServer server, TestSession who, string? since = null, string? filter = null, int? timeoutMs = null, bool fullState = false, string? extra = null)
    {
        var (status, body) = await server.SyncRawAsync(who, since, filter, timeoutMs, fullState, extra);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["next_batch"], Is.Not.Null.And.Not.Empty);
        return body;
    }

    /// <summary>The expected values of an assertion, listed in place.</summary>
    public static string[] Expect(params string[] values) => values;

    public static string NextBatch(this JsonNode sync) => (string)sync["next_batch"]!;

    public static JsonObject? Joined(this JsonNode sync, string roomId) => sync["rooms"]?["join"]?[roomId] as JsonObject;

    public static JsonObject? Left(this JsonNode sync, string roomId) => sync["rooms"]?["leave"]?[roomId] as JsonObject;

    public static JsonObject? Invited(this JsonNode sync, string roomId) => sync["rooms"]?["invite"]?[roomId] as JsonObject;

    public static JsonArray TimelineEvents(this JsonObject room) => room["timeline"]!["events"]!.AsArray();

    public static JsonArray StateEvents(this JsonObject room, string field = "state") => room[field]!["events"]!.AsArray();

    public static List<string> EventIds(this JsonArray events) => [.. events.Select(e => (string)e!["event_id"]!)];

    public static List<string> Types(this JsonArray events) => [.. events.Select(e => (string)e!["type"]!)];

    /// <summary>The bodies of the <c>m.room.message</c> events, in order.</summary>
    public static List<string> Bodies(this JsonArray events) =>
        [.. events.Where(e => (string)e!["type"]! == "m.room.message").Select(e => (string)e!["content"]!["body"]!)];

    /// <summary>A user with a room of their own, ready to sync.</summary>
    public static async Task<(TestSession User, string RoomId)> UserWithRoomAsync(this TestServer server, string prefix, JsonObject? createBody = null)
    {
        var user = await server.RegisterAsync(Accounts.UniqueName(prefix));
        var roomId = await server.CreateRoomAsync(user, createBody);
        return (user, roomId);
    }
}
