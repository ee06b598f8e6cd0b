using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Sync;

/// <summary>
/// Which rooms <c>/sync</c> reports where: invites with stripped state, joins with the room's full
/// state, leaves once, rejoins, knocks, the room summary, <c>full_state</c>, and history visibility.
/// </summary>
public sealed class SyncRoomsTests
{
    private static readonly string[] StrippedKeys = ["content", "sender", "state_key", "type"];

    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task An_invite_appears_in_invite_with_stripped_state_and_after_joining_the_room_is_in_join_as_on_an_initial_sync()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["name"] = "Party", ["topic"] = "cake" });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        var since = (await _server.SyncAsync(bob)).NextBatch();

        await _server.InviteAsync(alice, roomId, bob.UserId);
        var invited = await _server.SyncAsync(bob, since: since);

        var inviteState = invited.Invited(roomId)!["invite_state"]!["events"]!.AsArray();
        Assert.That(inviteState.Types(), Is.SupersetOf(SyncApi.Expect("m.room.create", "m.room.name", "m.room.topic", "m.room.join_rules", "m.room.member")));
        var ownMember = inviteState.Single(e => (string?)e!["state_key"] == bob.UserId)!;
        Assert.That((string?)ownMember["content"]!["membership"], Is.EqualTo("invite"));
        Assert.That((string?)ownMember["sender"], Is.EqualTo(alice.UserId));
        Assert.That(inviteState.Any(e => (string?)e!["state_key"] == alice.UserId), Is.True, "the inviter's member event, so that clients can show who invited");
        Assert.That(inviteState.Select(e => e!.AsObject().Select(p => p.Key).Order()), Has.All.EqualTo(StrippedKeys));
        Assert.That(invited.Joined(roomId), Is.Null);

        await _server.JoinAsync(bob, roomId);
        var joined = await _server.SyncAsync(bob, since: invited.NextBatch(), filter: """{"room":{"timeline":{"limit":3}}}""");

        Assert.That(joined.Invited(roomId), Is.Null);
        var room = joined.Joined(roomId)!;
        var timeline = room.TimelineEvents();
        Assert.That(timeline.Types(), Is.EqualTo(SyncApi.Expect("m.room.topic", "m.room.member", "m.room.member")),
            "the room's latest events, from before the window too: the topic, Bob's invite and his join");
        Assert.That((bool?)room["timeline"]!["limited"], Is.True, "the room's older events are reached through prev_batch");
        var state = room.StateEvents();
        Assert.That(state.Types(), Is.SupersetOf(SyncApi.Expect("m.room.create", "m.room.power_levels", "m.room.name", "m.room.join_rules")));
        Assert.That(state.Any(e => (string?)e!["state_key"] == alice.UserId), Is.True, "the members the new joiner did not know");
        Assert.That(state.EventIds().Intersect(timeline.EventIds()), Is.Empty, "state holds what precedes the timeline");
    }

    [Test]
    public async Task A_left_room_appears_in_leave_once_with_the_leave_event()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat" });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        await _server.JoinAsync(bob, roomId);
        var since = (await _server.SyncAsync(bob)).NextBatch();

        await _server.LeaveAsync(bob, roomId);
        var left = await _server.SyncAsync(bob, since: since);

        Assert.That(left.Joined(roomId), Is.Null);
        var last = left.Left(roomId)!.TimelineEvents()[^1]!;
        Assert.That((string?)last["type"], Is.EqualTo("m.room.member"));
        Assert.That((string?)last["content"]!["membership"], Is.EqualTo("leave"));

        await _server.SendTextAsync(alice, roomId, "after bob left");
        var after = await _server.SyncAsync(bob, since: left.NextBatch());
        Assert.That(after.Left(roomId), Is.Null, "reported once");
        Assert.That(after.Joined(roomId), Is.Null);
    }

    [Test]
    public async Task A_kicked_user_gets_the_room_in_leave_with_the_kick()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat" });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        await _server.JoinAsync(bob, roomId);
        var since = (await _server.SyncAsync(bob)).NextBatch();

        var (status, body) = await _server.PostRawAsync(alice, $"{RoomApi.RoomPath(roomId)}/kick", new JsonObject { ["user_id"] = bob.UserId, ["reason"] = "testing" });
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var sync = await _server.SyncAsync(bob, since: since);

        var kick = sync.Left(roomId)!.TimelineEvents()[^1]!;
        Assert.That((string?)kick["sender"], Is.EqualTo(alice.UserId));
        Assert.That((string?)kick["content"]!["membership"], Is.EqualTo("leave"));
    }

    [Test]
    public async Task A_user_who_rejoins_gets_the_room_in_join_again_with_its_state()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat", ["name"] = "Again" });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        await _server.JoinAsync(bob, roomId);
        await _server.LeaveAsync(bob, roomId);
        await _server.SendTextAsync(alice, roomId, "while bob was away");
        var since = (await _server.SyncAsync(bob)).NextBatch();

        await _server.JoinAsync(bob, roomId);
        var sync = await _server.SyncAsync(bob, since: since);

        var room = sync.Joined(roomId)!;
        Assert.That(sync.Left(roomId), Is.Null);
        Assert.That(room.StateEvents().Types().Concat(room.TimelineEvents().Types()), Does.Contain("m.room.name"), "state and timeline give the room's full state");
        Assert.That(room.TimelineEvents().Bodies(), Does.Contain("while bob was away"), "the room's latest events, as for a room new to the client");
        var join = room.TimelineEvents()[^1]!;
        Assert.That((string?)join["state_key"], Is.EqualTo(bob.UserId));
        Assert.That((string?)join["content"]!["membership"], Is.EqualTo("join"));
    }

    [Test]
    public async Task Left_rooms_are_in_an_initial_sync_only_with_include_leave()
    {
        var (_, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat" });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        await _server.JoinAsync(bob, roomId);
        await _server.LeaveAsync(bob, roomId);

        var plain = await _server.SyncAsync(bob);
        var withLeave = await _server.SyncAsync(bob, filter: """{"room":{"include_leave":true,"timeline":{"limit":2}}}""");

        Assert.That(plain.Left(roomId), Is.Null);
        Assert.That(plain.Joined(roomId), Is.Null);
        var left = withLeave.Left(roomId)!;
        Assert.That((string?)left.TimelineEvents()[^1]!["content"]!["membership"], Is.EqualTo("leave"));
        Assert.That(left.StateEvents().Types(), Does.Contain("m.room.create"));
    }

    [Test]
    public async Task A_rejected_invite_is_in_leave_without_the_room_s_state()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["name"] = "Secret plans" });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        await _server.InviteAsync(alice, roomId, bob.UserId);
        await _server.SendTextAsync(alice, roomId, "not for bob");
        var since = (await _server.SyncAsync(bob)).NextBatch();

        await _server.LeaveAsync(bob, roomId);
        var left = (await _server.SyncAsync(bob, since: since)).Left(roomId)!;

        Assert.That(left.StateEvents(), Is.Empty);
        Assert.That(left.TimelineEvents().Types(), Is.EqualTo(SyncApi.Expect("m.room.member")));
    }

    [Test]
    public async Task A_knock_appears_in_knock_with_stripped_state()
    {
        var (_, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject
        {
            ["initial_state"] = new JsonArray(new JsonObject { ["type"] = "m.room.join_rules", ["state_key"] = "", ["content"] = new JsonObject { ["join_rule"] = "knock" } }),
        });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        var since = (await _server.SyncAsync(bob)).NextBatch();

        var (status, body) = await _server.PostRawAsync(bob, $"{RoomApi.Client}/knock/{RoomApi.Escape(roomId)}", new JsonObject { ["reason"] = "let me in" });
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var sync = await _server.SyncAsync(bob, since: since);

        var knockState = sync["rooms"]!["knock"]![roomId]!["knock_state"]!["events"]!.AsArray();
        Assert.That(knockState.Types(), Does.Contain("m.room.join_rules"));
        var own = knockState.Single(e => (string?)e!["state_key"] == bob.UserId)!;
        Assert.That((string?)own["content"]!["membership"], Is.EqualTo("knock"));
    }

    [Test]
    public async Task A_room_without_a_name_has_heroes_and_member_counts_in_its_summary()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat" });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        var carol = await _server.RegisterAsync(Accounts.UniqueName("carol"));
        await _server.JoinAsync(bob, roomId);
        await _server.InviteAsync(alice, roomId, carol.UserId);

        var summary = (await _server.SyncAsync(alice)).Joined(roomId)!["summary"]!;

        Assert.That(summary["m.heroes"]!.AsArray().Select(h => (string?)h), Is.EqualTo(new[] { bob.UserId, carol.UserId }));
        Assert.That(summary["m.joined_member_count"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(summary["m.invited_member_count"]!.GetValue<int>(), Is.EqualTo(1));
    }

    [Test]
    public async Task The_summary_comes_again_when_the_membership_changes_and_not_otherwise()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat" });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        var since = (await _server.SyncAsync(alice)).NextBatch();

        await _server.SendTextAsync(alice, roomId, "alone");
        var quiet = await _server.SyncAsync(alice, since: since);
        await _server.JoinAsync(bob, roomId);
        var joined = await _server.SyncAsync(alice, since: quiet.NextBatch());

        Assert.That(quiet.Joined(roomId)!["summary"]!.AsObject(), Is.Empty);
        Assert.That(joined.Joined(roomId)!["summary"]!["m.joined_member_count"]!.GetValue<int>(), Is.EqualTo(2));
    }

    [Test]
    public async Task Full_state_returns_the_whole_state_even_when_nothing_changed()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["name"] = "Everything" });
        var since = (await _server.SyncAsync(alice)).NextBatch();

        var plain = await _server.SyncAsync(alice, since: since);
        var full = await _server.SyncAsync(alice, since: since, fullState: true);

        Assert.That(plain.Joined(roomId), Is.Null);
        var room = full.Joined(roomId)!;
        Assert.That(room.StateEvents().Types(), Is.SupersetOf(SyncApi.Expect("m.room.create", "m.room.member", "m.room.power_levels", "m.room.name")));
        Assert.That(room.TimelineEvents(), Is.Empty, "the timeline still starts at since");
    }

    [Test]
    public async Task A_state_change_in_a_gap_is_in_the_state_of_a_limited_sync()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice");
        var since = (await _server.SyncAsync(alice)).NextBatch();
        await _server.PutStateAsync(alice, roomId, "m.room.topic", "", new JsonObject { ["topic"] = "in the gap" });
        for (var i = 0; i < 12; i++)
            await _server.SendTextAsync(alice, roomId, $"message {i}");

        var room = (await _server.SyncAsync(alice, since: since)).Joined(roomId)!;

        Assert.That(room["timeline"]!["limited"]!.GetValue<bool>(), Is.True);
        var state = room.StateEvents();
        Assert.That(state.Types(), Is.EqualTo(SyncApi.Expect("m.room.topic")), "only what changed between since and the timeline");
        Assert.That((string?)state[0]!["content"]!["topic"], Is.EqualTo("in the gap"));
    }

    [Test]
    public async Task A_later_joiner_does_not_see_what_joined_history_visibility_hides()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject
        {
            ["preset"] = "public_chat",
            ["initial_state"] = new JsonArray(new JsonObject
            {
                ["type"] = "m.room.history_visibility",
                ["state_key"] = "",
                ["content"] = new JsonObject { ["history_visibility"] = "joined" },
            }),
        });
        await _server.SendTextAsync(alice, roomId, "before bob");
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        var since = (await _server.SyncAsync(bob)).NextBatch();
        await _server.JoinAsync(bob, roomId);
        await _server.SendTextAsync(alice, roomId, "after bob");

        var initial = (await _server.SyncAsync(bob)).Joined(roomId)!;
        var incremental = (await _server.SyncAsync(bob, since: since)).Joined(roomId)!;

        foreach (var room in new[] { initial, incremental })
        {
            Assert.That(room.TimelineEvents().Bodies(), Is.EqualTo(SyncApi.Expect("after bob")));
            Assert.That(room.TimelineEvents().Any(e => (string?)e!["state_key"] == bob.UserId), Is.True, "bob sees his own join");
        }
    }

    [Test]
    public async Task A_later_joiner_sees_earlier_events_under_shared_history_visibility()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat" });
        await _server.SendTextAsync(alice, roomId, "before bob");
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        await _server.JoinAsync(bob, roomId);

        var room = (await _server.SyncAsync(bob)).Joined(roomId)!;

        Assert.That(room.TimelineEvents().Bodies(), Is.EqualTo(SyncApi.Expect("before bob")));
    }

    [Test]
    public async Task Redacted_events_come_redacted()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice");
        var sent = await _server.SendTextAsync(alice, roomId, "oops");
        var (status, body) = await _server.SendAsync(HttpMethod.Put, $"{RoomApi.RoomPath(roomId)}/redact/{RoomApi.Escape(sent)}/{RoomApi.NewTxnId()}", new JsonObject(), alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());

        var timeline = (await _server.SyncAsync(alice)).Joined(roomId)!.TimelineEvents();

        var redacted = timeline.Single(e => (string?)e!["event_id"] == sent)!;
        Assert.That(redacted["content"]!.AsObject(), Is.Empty);
        Assert.That(redacted["unsigned"]!["redacted_because"], Is.Not.Null);
        Assert.That((string?)timeline[^1]!["type"], Is.EqualTo("m.room.redaction"));
    }
}
