using System.Text.Json.Nodes;
using Conduit.Net.Services.Federation;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;
using Conduit.Net.Tests.Sync;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// Memberships across two real servers through the client API: a user of A invites a user of B (invite v2,
/// the invite in B's /sync with the room's stripped state), who accepts by joining or rejects through
/// make_leave/send_leave; createRoom's invite list; knocking on A's room from B (make_knock/send_knock) and
/// being let in; kicks, bans, unbans and leaving then rejoining across the servers; a join, knock or leave
/// through A passed on to the room's third server C.
/// </summary>
public sealed class FederationMembershipTests() : FederatedFixture(3)
{
    private TestSession _alice = null!;

    [OneTimeSetUp]
    public async Task RegisterAlice() => _alice = await NewUserAsync(A, "alice");

    private Task<string> PrivateRoomAsync(string name, JsonObject? extra = null)
    {
        var body = new JsonObject { ["preset"] = "private_chat", ["name"] = name };
        foreach (var (key, value) in extra ?? [])
            body[key] = value?.DeepClone();
        return A.CreateRoomAsync(_alice, body);
    }

    /// <summary>The user's membership in the room as A's state has it (null when it has none).</summary>
    private async Task<string?> MembershipOnAAsync(string roomId, string userId)
    {
        var (status, content) = await A.GetStateRawAsync(_alice, roomId, "m.room.member", userId);
        return status == 200 ? (string?)content?["membership"] : null;
    }

    private static async Task<JsonObject?> InviteInSyncAsync(TestServer server, TestSession who, string roomId)
    {
        JsonObject? invite = null;
        await Poll.UntilAsync(async () => (invite = (await server.SyncAsync(who)).Invited(roomId)) is not null);
        return invite;
    }

    private static List<JsonNode> StrippedEvents(JsonObject room, string field) => [.. room[field]!["events"]!.AsArray().OfType<JsonNode>()];

    [Test]
    public async Task An_invite_to_a_user_of_another_server_reaches_their_sync_with_the_rooms_stripped_state()
    {
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PrivateRoomAsync("Invited");

        await A.InviteAsync(_alice, roomId, bob.UserId);

        var invite = await InviteInSyncAsync(B, bob, roomId);
        Assert.That(invite, Is.Not.Null, "the invite is in bob's sync on B");
        var events = StrippedEvents(invite!, "invite_state");
        Assert.Multiple(() =>
        {
            Assert.That(events.Any(e => (string?)e["type"] == "m.room.create"), Is.True);
            Assert.That(events.Any(e => (string?)e["type"] == "m.room.name" && (string?)e["content"]?["name"] == "Invited"), Is.True);
            Assert.That(events.Any(e => (string?)e["type"] == "m.room.member" && (string?)e["state_key"] == bob.UserId
                && (string?)e["sender"] == _alice.UserId && (string?)e["content"]?["membership"] == "invite"), Is.True, "bob's invite, by alice");
        });
        Assert.That(await MembershipOnAAsync(roomId, bob.UserId), Is.EqualTo("invite"));
    }

    [Test]
    public async Task An_invited_remote_user_accepts_by_joining_without_naming_a_server()
    {
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PrivateRoomAsync("Accepted");
        await A.InviteAsync(_alice, roomId, bob.UserId);
        Assert.That(await InviteInSyncAsync(B, bob, roomId), Is.Not.Null);

        var (status, body) = await B.PostRawAsync(bob, $"{RoomApi.RoomPath(roomId)}/join");

        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(await MembershipOnAAsync(roomId, bob.UserId), Is.EqualTo("join"));
        var sync = await B.SyncAsync(bob);
        Assert.That(sync.Joined(roomId), Is.Not.Null, "the room is joined on B");
        Assert.That(sync.Invited(roomId), Is.Null, "and no longer an invite");
        await B.SendTextAsync(bob, roomId, "thanks for the invite");
        await Poll.UntilAsync(async () => (await MessagesAsync(A, _alice, roomId)).Contains("thanks for the invite"));
        Assert.That(await MessagesAsync(A, _alice, roomId), Does.Contain("thanks for the invite"));
    }

    [Test]
    public async Task An_invited_remote_user_rejects_through_make_leave_and_send_leave()
    {
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PrivateRoomAsync("Rejected");
        await A.InviteAsync(_alice, roomId, bob.UserId);
        var before = await B.SyncAsync(bob);
        Assert.That(await InviteInSyncAsync(B, bob, roomId), Is.Not.Null);

        await B.LeaveAsync(bob, roomId);

        Assert.That(await MembershipOnAAsync(roomId, bob.UserId), Is.EqualTo("leave"), "A has the rejection at once: it went through send_leave");
        var sync = await B.SyncAsync(bob, since: before.NextBatch());
        Assert.That(sync.Invited(roomId), Is.Null);
        var left = sync.Left(roomId);
        Assert.That(left, Is.Not.Null, "the rejected invite is in rooms.leave");
        var leave = left!.TimelineEvents().Single();
        Assert.That(((string?)leave?["type"], (string?)leave?["state_key"], (string?)leave?["content"]?["membership"]), Is.EqualTo(("m.room.member", bob.UserId, "leave")));
        Assert.That((await B.SyncAsync(bob)).Invited(roomId), Is.Null, "an initial sync does not show the invite again");

        var (forgetStatus, forgetBody) = await B.PostRawAsync(bob, $"{RoomApi.RoomPath(roomId)}/forget");
        Assert.That(forgetStatus, Is.EqualTo(200), forgetBody?.ToJsonString());
        Assert.That((await B.SyncAsync(bob, filter: """{"room":{"include_leave":true}}""")).Left(roomId), Is.Null, "a forgotten rejection is gone from rooms.leave");
    }

    [Test]
    public async Task CreateRoom_invites_the_users_of_other_servers_in_its_invite_list()
    {
        var bob = await NewUserAsync(B, "bob");
        var carol = await NewUserAsync(A, "carol");

        var roomId = await A.CreateRoomAsync(_alice, new JsonObject
        {
            ["preset"] = "trusted_private_chat",
            ["is_direct"] = true,
            ["invite"] = new JsonArray(bob.UserId, carol.UserId),
        });

        var invite = await InviteInSyncAsync(B, bob, roomId);
        Assert.That(invite, Is.Not.Null);
        var own = StrippedEvents(invite!, "invite_state").Single(e => (string?)e["type"] == "m.room.member" && (string?)e["state_key"] == bob.UserId);
        Assert.That((bool?)own["content"]?["is_direct"], Is.True);
        Assert.That(await MembershipOnAAsync(roomId, carol.UserId), Is.EqualTo("invite"));
    }

    [Test]
    public async Task Inviting_a_user_the_other_server_does_not_have_is_404_M_NOT_FOUND()
    {
        var roomId = await PrivateRoomAsync("Nobody");

        var (status, body) = await A.PostRawAsync(_alice, $"{RoomApi.RoomPath(roomId)}/invite", new JsonObject { ["user_id"] = $"@nobody-{Guid.NewGuid():N}:{B.Name()}" });

        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
    }

    [Test]
    public async Task An_invite_from_an_ignored_user_is_not_shown()
    {
        var bob = await NewUserAsync(B, "bob");
        var (ignoreStatus, _) = await B.SendAsync(
            HttpMethod.Put,
            $"{RoomApi.Client}/user/{RoomApi.Escape(bob.UserId)}/account_data/m.ignored_user_list",
            new JsonObject { ["ignored_users"] = new JsonObject { [_alice.UserId] = new JsonObject() } },
            bob.AccessToken);
        Assert.That(ignoreStatus, Is.EqualTo(200));
        var ignoredRoom = await PrivateRoomAsync("Ignored");
        var otherRoom = await PrivateRoomAsync("Shown");
        var dave = await NewUserAsync(A, "dave");
        await A.InviteAsync(_alice, otherRoom, dave.UserId);
        await A.JoinAsync(dave, otherRoom);

        await A.InviteAsync(_alice, ignoredRoom, bob.UserId);
        await A.InviteAsync(dave, otherRoom, bob.UserId);

        Assert.That(await InviteInSyncAsync(B, bob, otherRoom), Is.Not.Null, "dave's invite, sent after alice's, has arrived");
        Assert.That((await B.SyncAsync(bob)).Invited(ignoredRoom), Is.Null);
    }

    [Test]
    public async Task A_user_of_another_server_knocks_and_is_let_in()
    {
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PrivateRoomAsync("Knock here", new JsonObject
        {
            ["initial_state"] = new JsonArray(new JsonObject { ["type"] = "m.room.join_rules", ["content"] = new JsonObject { ["join_rule"] = "knock" } }),
        });

        var (status, body) = await B.PostRawAsync(bob, $"{RoomApi.Client}/knock/{RoomApi.Escape(roomId)}?via={RoomApi.Escape(A.Name())}", new JsonObject { ["reason"] = "let me in" });

        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body?["room_id"], Is.EqualTo(roomId));
        var knock = (await B.SyncAsync(bob))["rooms"]?["knock"]?[roomId] as JsonObject;
        Assert.That(knock, Is.Not.Null, "the knock is in bob's sync on B");
        var state = StrippedEvents(knock!, "knock_state");
        Assert.That(state.Any(e => (string?)e["type"] == "m.room.name" && (string?)e["content"]?["name"] == "Knock here"), Is.True);
        Assert.That(state.Any(e => (string?)e["type"] == "m.room.member" && (string?)e["state_key"] == bob.UserId && (string?)e["content"]?["membership"] == "knock"), Is.True);
        Assert.That(await MembershipOnAAsync(roomId, bob.UserId), Is.EqualTo("knock"));

        await A.InviteAsync(_alice, roomId, bob.UserId);
        Assert.That(await InviteInSyncAsync(B, bob, roomId), Is.Not.Null, "the invite replaces the knock on B");
        await B.JoinAsync(bob, roomId);
        Assert.That(await MembershipOnAAsync(roomId, bob.UserId), Is.EqualTo("join"));
    }

    [Test]
    public async Task Knocking_on_a_room_that_does_not_take_knocks_is_403_M_FORBIDDEN()
    {
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PrivateRoomAsync("Invite only");

        var (status, body) = await B.PostRawAsync(bob, $"{RoomApi.Client}/knock/{RoomApi.Escape(roomId)}?via={RoomApi.Escape(A.Name())}");

        Assert.That((status, body.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
        Assert.That(await MembershipOnAAsync(roomId, bob.UserId), Is.Null);
    }

    private async Task<(TestSession Bob, string RoomId)> RemoteMemberAsync(string name)
    {
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PublicRoomAsync(A, _alice, new JsonObject { ["name"] = name });
        await JoinViaAsync(B, bob, roomId, A);
        return (bob, roomId);
    }

    /// <summary>The room's entry in rooms.leave of bob's (initial, leaves included) sync on B, once it is there.</summary>
    private async Task<JsonObject?> LeftOnBAsync(TestSession bob, string roomId)
    {
        JsonObject? left = null;
        await Poll.UntilAsync(async () => (left = (await B.SyncAsync(bob, filter: """{"room":{"include_leave":true}}""")).Left(roomId)) is not null);
        return left;
    }

    [TestCase("kick", "leave")]
    [TestCase("ban", "ban")]
    public async Task A_remote_user_removed_by_the_resident_admin_can_no_longer_send(string action, string membership)
    {
        var (bob, roomId) = await RemoteMemberAsync(action);
        await B.SendTextAsync(bob, roomId, "before");
        await Poll.UntilAsync(async () => (await MessagesAsync(A, _alice, roomId)).Count > 0);

        var (status, body) = await A.PostRawAsync(_alice, $"{RoomApi.RoomPath(roomId)}/{action}", new JsonObject { ["user_id"] = bob.UserId, ["reason"] = "out" });
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());

        var left = await LeftOnBAsync(bob, roomId);
        Assert.That(left, Is.Not.Null, "the room is in rooms.leave of bob's sync on B");
        Assert.That(left!.TimelineEvents().Any(e => (string?)e?["type"] == "m.room.member" && (string?)e?["state_key"] == bob.UserId
            && (string?)e?["content"]?["membership"] == membership && (string?)e?["sender"] == _alice.UserId), Is.True);
        var (sendStatus, sendBody) = await B.SendRawAsync(bob, roomId, "m.room.message", new JsonObject { ["msgtype"] = "m.text", ["body"] = "after" });
        Assert.That((sendStatus, sendBody.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")), "B's own server refuses");
        Assert.That(await MessagesAsync(A, _alice, roomId), Is.EqualTo(SyncApi.Expect("before")));
    }

    [Test]
    public async Task A_remote_user_unbanned_by_the_resident_admin_can_join_again()
    {
        var (bob, roomId) = await RemoteMemberAsync("unban");
        var (banStatus, _) = await A.PostRawAsync(_alice, $"{RoomApi.RoomPath(roomId)}/ban", new JsonObject { ["user_id"] = bob.UserId });
        Assert.That(banStatus, Is.EqualTo(200));
        Assert.That(await LeftOnBAsync(bob, roomId), Is.Not.Null);
        var (refused, _) = await JoinRawAsync(B, bob, roomId, A);
        Assert.That(refused, Is.EqualTo(403), "a banned user cannot join");

        var (unbanStatus, _) = await A.PostRawAsync(_alice, $"{RoomApi.RoomPath(roomId)}/unban", new JsonObject { ["user_id"] = bob.UserId });
        Assert.That(unbanStatus, Is.EqualTo(200));
        await JoinViaAsync(B, bob, roomId, A);

        Assert.That(await MembershipOnAAsync(roomId, bob.UserId), Is.EqualTo("join"));
        await B.SendTextAsync(bob, roomId, "back again");
        await Poll.UntilAsync(async () => (await MessagesAsync(A, _alice, roomId)).Contains("back again"));
        Assert.That(await MessagesAsync(A, _alice, roomId), Does.Contain("back again"));
    }

    [Test]
    public async Task A_remote_user_who_left_rejoins_and_both_sides_chat_again()
    {
        var (bob, roomId) = await RemoteMemberAsync("rejoin");
        await B.LeaveAsync(bob, roomId);
        await Poll.UntilAsync(async () => await MembershipOnAAsync(roomId, bob.UserId) == "leave");
        Assert.That(await MembershipOnAAsync(roomId, bob.UserId), Is.EqualTo("leave"), "the leave reached A");
        await A.SendTextAsync(_alice, roomId, "while bob was away");

        await JoinViaAsync(B, bob, roomId, A);
        await A.SendTextAsync(_alice, roomId, "welcome back");
        await B.SendTextAsync(bob, roomId, "hello again");

        await Poll.UntilAsync(async () => (await MessagesAsync(B, bob, roomId)).Contains("welcome back")
            && (await MessagesAsync(A, _alice, roomId)).Contains("hello again"));
        Assert.That(await MessagesAsync(B, bob, roomId), Does.Contain("welcome back"));
        Assert.That(await MessagesAsync(A, _alice, roomId), Does.Contain("hello again"));
        var (_, joined) = await B.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/joined_rooms", accessToken: bob.AccessToken);
        Assert.That(joined?["joined_rooms"]?.AsArray().Select(r => (string?)r), Does.Contain(roomId));
    }

    [Test]
    public async Task An_invite_to_a_user_whose_server_is_in_the_room_arrives_as_a_room_event()
    {
        var (bob, roomId) = await RemoteMemberAsync("Shared server");
        var erin = await NewUserAsync(B, "erin");

        await A.InviteAsync(_alice, roomId, erin.UserId);

        Assert.That(await InviteInSyncAsync(B, erin, roomId), Is.Not.Null);
        await B.JoinAsync(erin, roomId);
        await Poll.UntilAsync(async () => await MembershipOnAAsync(roomId, erin.UserId) == "join");
        Assert.That(await MembershipOnAAsync(roomId, erin.UserId), Is.EqualTo("join"), "B joined her locally, being in the room, and sent the join to A");
        var (_, members) = await B.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/joined_members", accessToken: bob.AccessToken);
        Assert.That(members?["joined"]?.AsObject().Select(m => m.Key), Is.SupersetOf(new[] { bob.UserId, erin.UserId, _alice.UserId }));
    }

    [Test]
    public async Task Memberships_made_through_the_resident_server_reach_the_rooms_other_servers()
    {
        var (bob, roomId) = await RemoteMemberAsync("Three servers");
        var carol = await NewUserAsync(C, "carol");

        await JoinViaAsync(C, carol, roomId, A);
        await Poll.UntilAsync(async () => (await B.GetStateRawAsync(bob, roomId, "m.room.member", carol.UserId)).Body?["membership"]?.GetValue<string>() == "join");
        var (status, onB) = await B.GetStateRawAsync(bob, roomId, "m.room.member", carol.UserId);
        Assert.That((status, (string?)onB?["membership"]), Is.EqualTo((200, "join")), "B learnt of C's join, which went to A alone");

        await C.SendTextAsync(carol, roomId, "hello from C");
        await Poll.UntilAsync(async () => (await MessagesAsync(B, bob, roomId)).Contains("hello from C"));
        Assert.That(await MessagesAsync(B, bob, roomId), Does.Contain("hello from C"), "C now sends to B directly");
    }

    /// <summary>B's <c>PUT /v2/invite</c> to A with <paramref name="body"/>; the error A answered.</summary>
    private async Task<FederationException> RefusedInviteAsync(string roomId, string eventId, JsonObject body)
    {
        try
        {
            await B.FederationClient().PutAsync(A.Name(), $"/_matrix/federation/v2/invite/{RoomApi.Escape(roomId)}/{RoomApi.Escape(eventId)}", body, CancellationToken.None);
        }
        catch (FederationException e)
        {
            return e;
        }
        Assert.Fail("A accepted the invite.");
        return null!;
    }

    [Test]
    public async Task An_invite_of_a_room_version_not_supported_is_400_M_INCOMPATIBLE_ROOM_VERSION()
    {
        var refused = await RefusedInviteAsync($"!room:{B.Name()}", $"$event:{B.Name()}", new JsonObject { ["room_version"] = "99", ["event"] = new JsonObject() });

        Assert.That((refused.Status, (string?)refused.Body?["errcode"], (string?)refused.Body?["room_version"]), Is.EqualTo((400, "M_INCOMPATIBLE_ROOM_VERSION", "99")));
    }

    [Test]
    public async Task An_invite_that_is_not_an_invite_event_is_400_M_INVALID_PARAM_and_not_signed()
    {
        // A join of B's user, properly signed by B, sent to A as an invite of nobody.
        var roomId = await PublicRoomAsync(A, _alice);
        var joiner = $"@mallory:{B.Name()}";
        var (eventId, join) = await SignedJoinAsync(B, A, roomId, joiner);

        var refused = await RefusedInviteAsync(roomId, eventId, new JsonObject { ["room_version"] = "12", ["event"] = join });

        Assert.That((refused.Status, (string?)refused.Body?["errcode"]), Is.EqualTo((400, "M_INVALID_PARAM")));
        Assert.That(await MembershipOnAAsync(roomId, joiner), Is.Null);
    }
}
