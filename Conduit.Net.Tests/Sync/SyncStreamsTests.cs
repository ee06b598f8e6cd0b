using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Sync;

/// <summary>The streams beside the timeline in <c>/sync</c>: account data, typing, receipts, presence.</summary>
public sealed class SyncStreamsTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private async Task PutAccountDataAsync(TestSession who, string? roomId, string type, JsonObject content)
    {
        var path = roomId is null
            ? $"{RoomApi.Client}/user/{RoomApi.Escape(who.UserId)}/account_data/{RoomApi.Escape(type)}"
            : $"{RoomApi.Client}/user/{RoomApi.Escape(who.UserId)}/rooms/{RoomApi.Escape(roomId)}/account_data/{RoomApi.Escape(type)}";
        var (status, body) = await _server.SendAsync(HttpMethod.Put, path, content, who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
    }

    private async Task<(TestSession Alice, TestSession Bob, string RoomId)> PairAsync()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat" });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        await _server.JoinAsync(bob, roomId);
        return (alice, bob, roomId);
    }

    private static JsonArray Ephemeral(JsonNode sync, string roomId) => sync.Joined(roomId)!["ephemeral"]!["events"]!.AsArray();

    [Test]
    public async Task Account_data_comes_in_the_initial_sync_and_again_when_it_changes()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice");
        await PutAccountDataAsync(alice, null, "org.example.settings", new JsonObject { ["theme"] = "dark" });
        await PutAccountDataAsync(alice, roomId, "org.example.room", new JsonObject { ["pinned"] = true });

        var initial = await _server.SyncAsync(alice);
        Assert.That(initial["account_data"]!["events"]!.AsArray().Any(e => (string?)e!["type"] == "org.example.settings" && (string?)e["content"]!["theme"] == "dark"), Is.True);
        Assert.That(initial.Joined(roomId)!["account_data"]!["events"]!.AsArray().Types(), Is.EqualTo(SyncApi.Expect("org.example.room")));

        var quiet = await _server.SyncAsync(alice, since: initial.NextBatch());
        Assert.That(quiet["account_data"]!["events"]!.AsArray(), Is.Empty);

        await PutAccountDataAsync(alice, roomId, "org.example.room", new JsonObject { ["pinned"] = false });
        var changed = await _server.SyncAsync(alice, since: quiet.NextBatch());
        var room = changed.Joined(roomId)!;
        Assert.That((bool?)room["account_data"]!["events"]![0]!["content"]!["pinned"], Is.False);
        Assert.That(room.TimelineEvents(), Is.Empty, "only the account data is new");
    }

    [Test]
    public async Task The_account_data_filter_leaves_types_out()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        await PutAccountDataAsync(alice, null, "org.example.keep", []);
        await PutAccountDataAsync(alice, null, "org.example.drop", []);

        var sync = await _server.SyncAsync(alice, filter: """{"account_data":{"not_types":["org.example.drop"]}}""");

        Assert.That(sync["account_data"]!["events"]!.AsArray().Types(), Does.Contain("org.example.keep").And.No.Contain("org.example.drop"));
    }

    [Test]
    public async Task A_long_poll_wakes_for_account_data()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var since = (await _server.SyncAsync(alice)).NextBatch();

        var poll = _server.SyncAsync(alice, since: since, timeoutMs: 60_000);
        await Task.Delay(200);
        await PutAccountDataAsync(alice, null, "org.example.late", new JsonObject { ["x"] = 1 });

        var sync = await poll;
        Assert.That(sync["account_data"]!["events"]!.AsArray().Types(), Is.EqualTo(SyncApi.Expect("org.example.late")));
    }

    [Test]
    public async Task Typing_shows_in_the_room_s_ephemeral_events_and_wakes_a_long_poll()
    {
        var (alice, bob, roomId) = await PairAsync();
        var since = (await _server.SyncAsync(alice)).NextBatch();

        var poll = _server.SyncAsync(alice, since: since, timeoutMs: 60_000);
        await Task.Delay(200);
        var (status, body) = await _server.SendAsync(HttpMethod.Put, $"{RoomApi.RoomPath(roomId)}/typing/{RoomApi.Escape(bob.UserId)}",
            new JsonObject { ["typing"] = true, ["timeout"] = 30_000 }, bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());

        var typing = Ephemeral(await poll, roomId).Single(e => (string?)e!["type"] == "m.typing")!;
        Assert.That(typing["content"]!["user_ids"]!.AsArray().Select(u => (string?)u), Is.EqualTo(SyncApi.Expect(bob.UserId)));
    }

    [Test]
    public async Task A_read_receipt_shows_in_the_room_s_ephemeral_events()
    {
        var (alice, bob, roomId) = await PairAsync();
        var sent = await _server.SendTextAsync(alice, roomId, "read me");
        var since = (await _server.SyncAsync(alice)).NextBatch();

        var (status, body) = await _server.PostRawAsync(bob, $"{RoomApi.RoomPath(roomId)}/receipt/m.read/{RoomApi.Escape(sent)}");
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var receipt = Ephemeral(await _server.SyncAsync(alice, since: since), roomId).Single(e => (string?)e!["type"] == "m.receipt")!;

        Assert.That(receipt["content"]![sent]!["m.read"]![bob.UserId]!["ts"], Is.Not.Null);
    }

    [Test]
    public async Task The_ephemeral_filter_leaves_typing_out()
    {
        var (alice, bob, roomId) = await PairAsync();
        await _server.SendAsync(HttpMethod.Put, $"{RoomApi.RoomPath(roomId)}/typing/{RoomApi.Escape(bob.UserId)}",
            new JsonObject { ["typing"] = true, ["timeout"] = 30_000 }, bob.AccessToken);

        var filtered = await _server.SyncAsync(alice, filter: """{"room":{"ephemeral":{"not_types":["m.typing"]}}}""");
        var unfiltered = await _server.SyncAsync(alice);

        Assert.That(Ephemeral(filtered, roomId).Types(), Does.Not.Contain("m.typing"));
        Assert.That(Ephemeral(unfiltered, roomId).Types(), Does.Contain("m.typing"));
    }

    [Test]
    public async Task Presence_of_a_room_mate_comes_in_presence()
    {
        var (alice, bob, _) = await PairAsync();
        var since = (await _server.SyncAsync(alice)).NextBatch();

        var (status, body) = await _server.SendAsync(HttpMethod.Put, $"{RoomApi.Client}/presence/{RoomApi.Escape(bob.UserId)}/status",
            new JsonObject { ["presence"] = "unavailable", ["status_msg"] = "lunch" }, bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var sync = await _server.SyncAsync(alice, since: since);

        var presence = sync["presence"]!["events"]!.AsArray().Single(e => (string?)e!["sender"] == bob.UserId)!;
        Assert.That((string?)presence["type"], Is.EqualTo("m.presence"));
        Assert.That((string?)presence["content"]!["presence"], Is.EqualTo("unavailable"));
        Assert.That((string?)presence["content"]!["status_msg"], Is.EqualTo("lunch"));
    }

    [Test]
    public async Task Syncing_marks_the_user_online_unless_set_presence_says_otherwise()
    {
        var (alice, bob, _) = await PairAsync();

        await _server.SyncAsync(bob, extra: "set_presence=offline");
        var offline = await _server.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/presence/{RoomApi.Escape(bob.UserId)}/status", accessToken: alice.AccessToken);
        await _server.SyncAsync(bob);
        var online = await _server.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/presence/{RoomApi.Escape(bob.UserId)}/status", accessToken: alice.AccessToken);

        Assert.That((string?)offline.Body!["presence"], Is.EqualTo("offline"));
        Assert.That((string?)online.Body!["presence"], Is.EqualTo("online"));
    }
}
