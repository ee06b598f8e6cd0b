using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Storage;
using Conduit.Net.Tests.Rooms;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Sync;

/// <summary>
/// <c>GET /sync</c> ("Syncing" in the spec): initial and incremental syncs, the long-poll, tokens.
/// One server for the fixture; each test makes its own users and rooms.
/// </summary>
public sealed class SyncTests
{
    private static readonly string[] CreateRoomTimeline =
    [
        "m.room.create", "m.room.member", "m.room.power_levels", "m.room.join_rules",
        "m.room.history_visibility", "m.room.guest_access", "m.room.name", "m.room.message",
    ];

    private static readonly string[] BasicState = ["m.room.create", "m.room.member", "m.room.power_levels", "m.room.join_rules", "m.room.history_visibility"];

    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task An_initial_sync_shows_a_new_room_with_its_whole_history_in_the_timeline_and_no_state_before_it()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["name"] = "Tea" });
        var sent = await _server.SendTextAsync(alice, roomId, "hello");

        var sync = await _server.SyncAsync(alice);

        var room = sync.Joined(roomId);
        Assert.That(room, Is.Not.Null, sync.ToJsonString());
        var timeline = room!.TimelineEvents();
        Assert.That(timeline.Types(), Is.EqualTo(CreateRoomTimeline));
        Assert.That(timeline.EventIds()[^1], Is.EqualTo(sent));
        Assert.That(room["timeline"]!["limited"]!.GetValue<bool>(), Is.False);
        Assert.That(room.StateEvents(), Is.Empty, "the timeline starts at the room's creation, so no state comes before it");
        Assert.That(timeline[0]!["room_id"], Is.Null, "sync events leave the room id to the key they are under");
        Assert.That(timeline[^1]!["unsigned"]!["age"], Is.Not.Null);
    }

    [Test]
    public async Task The_timeline_holds_the_latest_ten_events_and_the_state_at_its_start()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice");
        for (var i = 0; i < 15; i++)
            await _server.SendTextAsync(alice, roomId, $"message {i}");

        var room = (await _server.SyncAsync(alice)).Joined(roomId)!;

        Assert.That(room.TimelineEvents().Bodies(), Is.EqualTo(Enumerable.Range(5, 10).Select(i => $"message {i}")));
        Assert.That(room["timeline"]!["limited"]!.GetValue<bool>(), Is.True);
        Assert.That((string?)room["timeline"]!["prev_batch"], Is.Not.Null);
        var state = room.StateEvents().Types();
        Assert.That(state, Is.SupersetOf(BasicState));
    }

    [Test]
    public async Task An_incremental_sync_returns_only_what_is_new()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice");
        var first = await _server.SyncAsync(alice);
        var sent = await _server.SendTextAsync(alice, roomId, "after the first sync");

        var second = await _server.SyncAsync(alice, since: first.NextBatch());

        var room = second.Joined(roomId)!;
        Assert.That(room.TimelineEvents().EventIds(), Is.EqualTo(new[] { sent }));
        Assert.That(room["timeline"]!["limited"]!.GetValue<bool>(), Is.False);
        Assert.That(room.StateEvents(), Is.Empty);

        var third = await _server.SyncAsync(alice, since: second.NextBatch());
        Assert.That(third.Joined(roomId), Is.Null, "nothing happened since");
    }

    [Test]
    public async Task A_limited_incremental_sync_has_a_prev_batch_from_which_messages_returns_the_gap_exactly()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice");
        var since = (await _server.SyncAsync(alice)).NextBatch();
        for (var i = 0; i < 15; i++)
            await _server.SendTextAsync(alice, roomId, $"message {i}");

        var room = (await _server.SyncAsync(alice, since: since)).Joined(roomId)!;

        Assert.That(room.TimelineEvents().Bodies(), Is.EqualTo(Enumerable.Range(5, 10).Select(i => $"message {i}")));
        Assert.That(room["timeline"]!["limited"]!.GetValue<bool>(), Is.True);
        var prevBatch = (string)room["timeline"]!["prev_batch"]!;

        var forwards = await Messages(alice, roomId, $"dir=f&from={since}&to={prevBatch}&limit=100");
        Assert.That(forwards.Bodies(), Is.EqualTo(Enumerable.Range(0, 5).Select(i => $"message {i}")), "the gap, oldest first");
        var backwards = await Messages(alice, roomId, $"dir=b&from={prevBatch}&to={since}&limit=100");
        Assert.That(backwards.Bodies(), Is.EqualTo(Enumerable.Range(0, 5).Select(i => $"message {4 - i}")), "the gap, newest first");
    }

    [Test]
    public async Task A_filter_s_timeline_limit_sets_how_many_events_come_back()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice");
        for (var i = 0; i < 5; i++)
            await _server.SendTextAsync(alice, roomId, $"message {i}");

        var room = (await _server.SyncAsync(alice, filter: """{"room":{"timeline":{"limit":2}}}""")).Joined(roomId)!;

        Assert.That(room.TimelineEvents().Bodies(), Is.EqualTo(Enumerable.Range(3, 2).Select(i => $"message {i}")));
        Assert.That(room["timeline"]!["limited"]!.GetValue<bool>(), Is.True);
    }

    [Test]
    public async Task The_sending_device_sees_its_transaction_id_and_other_devices_do_not()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice");
        var otherDevice = await _server.LoginAsync(alice.UserId);
        await _server.SendTextAsync(alice, roomId, "with a txn id", txnId: "my-txn-1");

        var mine = (await _server.SyncAsync(alice)).Joined(roomId)!.TimelineEvents()[^1]!;
        var theirs = (await _server.SyncAsync(otherDevice)).Joined(roomId)!.TimelineEvents()[^1]!;

        Assert.That((string?)mine["unsigned"]!["transaction_id"], Is.EqualTo("my-txn-1"));
        Assert.That(theirs["unsigned"]!["transaction_id"], Is.Null);
    }

    [Test]
    public async Task A_long_poll_returns_the_event_another_user_sends_while_it_waits()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat" });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        await _server.JoinAsync(bob, roomId);
        var since = (await _server.SyncAsync(alice)).NextBatch();

        var poll = _server.SyncAsync(alice, since: since, timeoutMs: 60_000);
        await Task.Delay(200);
        Assert.That(poll.IsCompleted, Is.False, "nothing new yet: the sync waits");
        var sent = await _server.SendTextAsync(bob, roomId, "wake up");

        var sync = await poll;
        Assert.That(sync.Joined(roomId)!.TimelineEvents().EventIds(), Is.EqualTo(new[] { sent }));
    }

    [Test]
    public async Task A_long_poll_with_nothing_new_times_out_with_empty_rooms()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice");
        var since = (await _server.SyncAsync(alice)).NextBatch();

        var sync = await _server.SyncAsync(alice, since: since, timeoutMs: 300);

        Assert.That(sync["rooms"]!["join"]!.AsObject(), Is.Empty);
        Assert.That(sync["rooms"]!["invite"]!.AsObject(), Is.Empty);
        Assert.That(sync["rooms"]!["leave"]!.AsObject(), Is.Empty);
        Assert.That(ulong.Parse(sync.NextBatch()), Is.GreaterThanOrEqualTo(ulong.Parse(since)));
        Assert.That(sync.Joined(roomId), Is.Null);
    }

    [Test]
    public async Task A_long_poll_wakes_for_an_invite()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice");
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        var since = (await _server.SyncAsync(bob)).NextBatch();

        var poll = _server.SyncAsync(bob, since: since, timeoutMs: 60_000);
        await Task.Delay(200);
        await _server.InviteAsync(alice, roomId, bob.UserId);

        var sync = await poll;
        Assert.That(sync.Invited(roomId), Is.Not.Null, sync.ToJsonString());
    }

    [Test]
    public async Task A_long_poll_the_client_abandons_leaves_no_watch_behind()
    {
        var (alice, _) = await _server.UserWithRoomAsync("alice");
        var since = (await _server.SyncAsync(alice)).NextBatch();
        var store = _server.Host.Services.GetRequiredService<KvStore>();
        var before = store.PendingWatches;

        using (var abandon = new CancellationTokenSource())
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{SyncApi.SyncPath}?since={since}&timeout=600000");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", alice.AccessToken);
            var poll = _server.Http.SendAsync(request, abandon.Token);
            await WaitUntil(() => store.PendingWatches > before);
            await abandon.CancelAsync();
            Assert.That(async () => await poll, Throws.InstanceOf<OperationCanceledException>());
        }

        await WaitUntil(() => store.PendingWatches == before);
        Assert.That(store.PendingWatches, Is.EqualTo(before));
    }

    [TestCase("garbage")]
    [TestCase("s12_34")]
    [TestCase("-5")]
    [TestCase("99999999999999999999999")]
    public async Task A_since_token_this_server_did_not_hand_out_is_400_M_INVALID_PARAM(string token)
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));

        var (status, body) = await _server.SyncRawAsync(alice, since: token);

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
    }

    [Test]
    public async Task A_since_token_from_the_future_is_400_M_INVALID_PARAM()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var now = ulong.Parse((await _server.SyncAsync(alice)).NextBatch());

        var (status, body) = await _server.SyncRawAsync(alice, since: (now + 1_000_000).ToString());

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
    }

    [Test]
    public async Task Sync_needs_an_access_token()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, SyncApi.SyncPath);

        Assert.That(status, Is.EqualTo(401));
        Assert.That(body.ErrCode(), Is.EqualTo("M_MISSING_TOKEN"));
    }

    /// <summary>Waits for something the server does in the background; gives up after a generous while.</summary>
    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 400 && !condition(); i++)
            await Task.Delay(25);
    }

    private async Task<JsonArray> Messages(TestSession who, string roomId, string query)
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?{query}", accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return body!["chunk"]!.AsArray();
    }
}
