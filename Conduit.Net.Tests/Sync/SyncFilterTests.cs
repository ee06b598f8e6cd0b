using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Sync;

/// <summary>Filters on <c>/sync</c>: by id or inline, lazy-loaded members, types, event fields, <c>use_state_after</c>.</summary>
public sealed class SyncFilterTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    /// <summary>A named room (no heroes to lazy-load) where alice and bob joined before carol and only bob speaks afterwards.</summary>
    private async Task<(TestSession Alice, TestSession Bob, TestSession Carol, string RoomId)> ChattyRoomAsync()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat", ["name"] = "Chat" });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        var carol = await _server.RegisterAsync(Accounts.UniqueName("carol"));
        await _server.JoinAsync(bob, roomId);
        await _server.JoinAsync(carol, roomId);
        for (var i = 0; i < 12; i++)
            await _server.SendTextAsync(bob, roomId, $"bob says {i}");
        return (alice, bob, carol, roomId);
    }

    private static string RoomFilter(string list, string roomId) =>
        new JsonObject { ["room"] = new JsonObject { [list] = new JsonArray(roomId) } }.ToJsonString();

    private static List<string?> MemberKeys(JsonObject room, string field = "state") =>
        [.. room.StateEvents(field).Where(e => (string?)e!["type"] == "m.room.member").Select(e => (string?)e!["state_key"])];

    [Test]
    public async Task Lazy_loading_sends_only_the_members_of_the_timeline_s_senders_and_one_s_own()
    {
        var (alice, bob, carol, roomId) = await ChattyRoomAsync();

        var lazy = (await _server.SyncAsync(carol, filter: """{"room":{"state":{"lazy_load_members":true}}}""")).Joined(roomId)!;
        var eager = (await _server.SyncAsync(carol)).Joined(roomId)!;

        Assert.That(MemberKeys(lazy), Is.EquivalentTo(SyncApi.Expect(bob.UserId, carol.UserId)));
        Assert.That(MemberKeys(eager), Is.EquivalentTo(SyncApi.Expect(alice.UserId, bob.UserId, carol.UserId)));
        Assert.That(lazy.StateEvents().Types(), Does.Contain("m.room.name"), "other state is untouched");
    }

    [Test]
    public async Task Lazy_loading_on_an_incremental_sync_sends_the_member_event_of_a_new_sender()
    {
        var (alice, _, carol, roomId) = await ChattyRoomAsync();
        const string filter = """{"room":{"state":{"lazy_load_members":true}}}""";
        var since = (await _server.SyncAsync(carol, filter: filter)).NextBatch();

        await _server.SendTextAsync(alice, roomId, "alice speaks up");
        var room = (await _server.SyncAsync(carol, since: since, filter: filter)).Joined(roomId)!;

        Assert.That(room.TimelineEvents().Bodies(), Is.EqualTo(SyncApi.Expect("alice speaks up")));
        Assert.That(MemberKeys(room), Is.EqualTo(SyncApi.Expect(alice.UserId)));
    }

    [Test]
    public async Task Not_types_keeps_those_events_out_of_the_timeline()
    {
        var (_, _, carol, roomId) = await ChattyRoomAsync();

        var room = (await _server.SyncAsync(carol, filter: """{"room":{"timeline":{"not_types":["m.room.message"]}}}""")).Joined(roomId)!;

        Assert.That(room.TimelineEvents().Types(), Is.Not.Empty.And.No.EqualTo("m.room.message"));
    }

    [Test]
    public async Task The_state_filter_restricts_the_state_types()
    {
        var (_, _, carol, roomId) = await ChattyRoomAsync();

        var room = (await _server.SyncAsync(carol, filter: """{"room":{"state":{"types":["m.room.name"]}}}""")).Joined(roomId)!;

        Assert.That(room.StateEvents().Types(), Is.EqualTo(SyncApi.Expect("m.room.name")));
    }

    [Test]
    public async Task A_filter_uploaded_earlier_is_used_by_its_id()
    {
        var (_, _, carol, roomId) = await ChattyRoomAsync();
        var (status, body) = await _server.PostRawAsync(carol, $"{RoomApi.Client}/user/{RoomApi.Escape(carol.UserId)}/filter", new JsonObject
        {
            ["room"] = new JsonObject { ["timeline"] = new JsonObject { ["limit"] = 3 } },
        });
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());

        var room = (await _server.SyncAsync(carol, filter: (string)body!["filter_id"]!)).Joined(roomId)!;

        Assert.That(room.TimelineEvents().Bodies(), Is.EqualTo(Enumerable.Range(9, 3).Select(i => $"bob says {i}")));
    }

    [Test]
    public async Task Rooms_and_not_rooms_pick_the_rooms_reported()
    {
        var (alice, first) = await _server.UserWithRoomAsync("alice");
        var second = await _server.CreateRoomAsync(alice);

        var only = await _server.SyncAsync(alice, filter: RoomFilter("rooms", first));
        var except = await _server.SyncAsync(alice, filter: RoomFilter("not_rooms", first));

        Assert.That(only["rooms"]!["join"]!.AsObject().Select(p => p.Key), Is.EqualTo(SyncApi.Expect(first)));
        Assert.That(except["rooms"]!["join"]!.AsObject().Select(p => p.Key), Is.EqualTo(SyncApi.Expect(second)));
    }

    [Test]
    public async Task Event_fields_trims_the_events_to_the_fields_asked_for()
    {
        var (_, _, carol, roomId) = await ChattyRoomAsync();

        var room = (await _server.SyncAsync(carol, filter: """{"event_fields":["type","content.body"],"room":{"timeline":{"limit":1}}}""")).Joined(roomId)!;

        var ev = room.TimelineEvents().Single()!.AsObject();
        Assert.That(ev.Select(p => p.Key), Is.EquivalentTo(SyncApi.Expect("type", "content")));
        Assert.That(ev["content"]!.AsObject().Select(p => p.Key), Is.EqualTo(SyncApi.Expect("body")));
    }

    [Test]
    public async Task Use_state_after_reports_the_state_at_the_end_of_the_timeline_in_state_after()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice");
        var since = (await _server.SyncAsync(alice)).NextBatch();
        await _server.PutStateAsync(alice, roomId, "m.room.topic", "", new JsonObject { ["topic"] = "in the timeline" });

        var room = (await _server.SyncAsync(alice, since: since, extra: "use_state_after=true")).Joined(roomId)!;

        Assert.That(room.ContainsKey("state"), Is.False);
        Assert.That(room.StateEvents("state_after").Types(), Is.EqualTo(SyncApi.Expect("m.room.topic")));
        Assert.That(room.TimelineEvents().Types(), Is.EqualTo(SyncApi.Expect("m.room.topic")));
    }

    [Test]
    public async Task An_unknown_filter_id_is_400_M_INVALID_PARAM()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));

        var (status, body) = await _server.SyncRawAsync(alice, filter: "12345678");

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
    }

    [TestCase("{not json", "M_NOT_JSON")]
    [TestCase("""{"room":{"timeline":{"limit":"ten"}}}""", "M_BAD_JSON")]
    public async Task A_broken_inline_filter_is_400(string filter, string errcode)
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));

        var (status, body) = await _server.SyncRawAsync(alice, filter: filter);

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo(errcode));
    }

    [TestCase("full_state=maybe")]
    [TestCase("timeout=soon")]
    [TestCase("set_presence=busy")]
    public async Task A_malformed_parameter_is_400_M_INVALID_PARAM(string parameter)
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));

        var (status, body) = await _server.SyncRawAsync(alice, extra: parameter);

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
    }
}
