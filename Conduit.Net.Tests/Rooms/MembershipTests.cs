using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;

namespace Conduit.Net.Tests.Rooms;

/// <summary>
/// Joining, leaving, forgetting, inviting, kicking, banning, unbanning and knocking, with the join
/// rules and the refusals of each; the joined-room and member lists.
/// </summary>
public sealed class MembershipTests : ServerFixture
{
    private Task<(int Status, JsonNode? Body)> PostAsync(TestSession who, string roomId, string action, JsonObject? body = null) =>
        Server.PostRawAsync(who, $"{RoomApi.RoomPath(roomId)}/{action}", body);

    private async Task<string?> MembershipAsync(TestSession reader, string roomId, string userId)
    {
        var (status, body) = await Server.GetStateRawAsync(reader, roomId, "m.room.member", userId);
        return status == 200 ? (string?)body!["membership"] : null;
    }

    private async Task<List<string>> JoinedRoomsAsync(TestSession who)
    {
        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/joined_rooms", accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        return [.. body!["joined_rooms"]!.AsArray().Select(n => (string)n!)];
    }

    [Test]
    public async Task Anyone_joins_a_public_room_by_id_or_by_alias_and_it_shows_in_joined_rooms()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        var carol = await NewUserAsync("carol");
        var aliasName = Accounts.UniqueName("lobby");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat", ["room_alias_name"] = aliasName });

        var (status, body) = await PostAsync(bob, roomId, "join");
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["room_id"], Is.EqualTo(roomId));

        (status, body) = await Server.PostRawAsync(carol, $"{RoomApi.Client}/join/{RoomApi.Escape($"#{aliasName}:localhost")}?server_name=elsewhere&via=elsewhere");
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["room_id"], Is.EqualTo(roomId));

        Assert.That(await JoinedRoomsAsync(bob), Is.EqualTo(new[] { roomId }));
        Assert.That(await MembershipAsync(alice, roomId, carol.UserId), Is.EqualTo("join"));
    }

    [Test]
    public async Task Joining_an_invite_only_room_without_an_invite_is_403_and_with_one_succeeds()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "private_chat" });

        var (status, body) = await PostAsync(bob, roomId, "join");
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));

        await Server.InviteAsync(alice, roomId, bob.UserId);
        Assert.That(await MembershipAsync(alice, roomId, bob.UserId), Is.EqualTo("invite"));
        (status, _) = await PostAsync(bob, roomId, "join");
        Assert.That(status, Is.EqualTo(200));
        Assert.That(await MembershipAsync(alice, roomId, bob.UserId), Is.EqualTo("join"));
    }

    [Test]
    public async Task Joining_an_unknown_room_or_alias_is_404()
    {
        var bob = await NewUserAsync("bob");
        var (status, body) = await Server.PostRawAsync(bob, $"{RoomApi.Client}/join/{RoomApi.Escape("#nobody-made-this:localhost")}");
        Assert.That(status, Is.EqualTo(404));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
        (status, body) = await Server.PostRawAsync(bob, $"{RoomApi.Client}/join/{RoomApi.Escape("!nowhere:localhost")}");
        Assert.That(status, Is.EqualTo(404));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
    }

    [Test]
    public async Task A_join_carries_the_profile_and_the_reason()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        await Server.SendAsync(HttpMethod.Put, $"{RoomApi.Client}/profile/{RoomApi.Escape(bob.UserId)}/avatar_url", new JsonObject { ["avatar_url"] = "mxc://localhost/bobface" }, bob.AccessToken);
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat" });
        var (status, _) = await PostAsync(bob, roomId, "join", new JsonObject { ["reason"] = "saying hi" });
        Assert.That(status, Is.EqualTo(200));

        var member = await Server.GetStateAsync(alice, roomId, "m.room.member", bob.UserId);
        Assert.That((string?)member["displayname"], Is.EqualTo(bob.UserId[1..bob.UserId.IndexOf(':')]));
        Assert.That((string?)member["avatar_url"], Is.EqualTo("mxc://localhost/bobface"));
        Assert.That((string?)member["reason"], Is.EqualTo("saying hi"));
    }

    [Test]
    public async Task A_new_display_name_or_avatar_reaches_the_member_event_of_every_joined_room()
    {
        var alice = await NewUserAsync("alice");
        var first = await Server.CreateRoomAsync(alice);
        var second = await Server.CreateRoomAsync(alice);
        var left = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat" });
        var bob = await NewUserAsync("bob");
        await Server.JoinAsync(bob, left);
        await Server.LeaveAsync(alice, left);
        var profile = $"{RoomApi.Client}/profile/{RoomApi.Escape(alice.UserId)}";

        var (status, _) = await Server.SendAsync(HttpMethod.Put, $"{profile}/displayname", new JsonObject { ["displayname"] = "Alice Renamed" }, alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        (status, _) = await Server.SendAsync(HttpMethod.Put, $"{profile}/avatar_url", new JsonObject { ["avatar_url"] = "mxc://localhost/new" }, alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        foreach (var roomId in new[] { first, second })
        {
            var member = await Server.GetStateAsync(alice, roomId, "m.room.member", alice.UserId);
            Assert.That((string?)member["membership"], Is.EqualTo("join"));
            Assert.That((string?)member["displayname"], Is.EqualTo("Alice Renamed"));
            Assert.That((string?)member["avatar_url"], Is.EqualTo("mxc://localhost/new"));
        }
        Assert.That((string?)(await Server.GetStateAsync(bob, left, "m.room.member", alice.UserId))["displayname"], Is.Not.EqualTo("Alice Renamed"), "rooms one left keep the old event");

        (status, _) = await Server.SendAsync(HttpMethod.Delete, $"{profile}/avatar_url", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That((await Server.GetStateAsync(alice, first, "m.room.member", alice.UserId))["avatar_url"], Is.Null);
    }

    [Test]
    public async Task Leaving_removes_the_room_from_joined_rooms_and_a_left_user_reads_the_state_as_they_left_it()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat", ["name"] = "before" });
        await Server.JoinAsync(bob, roomId);
        await Server.LeaveAsync(bob, roomId);
        await Server.PutStateAsync(alice, roomId, "m.room.name", "", new JsonObject { ["name"] = "after" });

        Assert.That(await JoinedRoomsAsync(bob), Is.Empty);
        Assert.That((string?)(await Server.GetStateAsync(bob, roomId, "m.room.name"))["name"], Is.EqualTo("before"));
        Assert.That(await MembershipAsync(bob, roomId, bob.UserId), Is.EqualTo("leave"));
        var (status, body) = await Server.SendRawAsync(bob, roomId, "m.room.message", new JsonObject { ["body"] = "ghost" });
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task Leave_rejects_an_invite()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["invite"] = new JsonArray(bob.UserId) });
        await Server.LeaveAsync(bob, roomId);
        Assert.That(await MembershipAsync(alice, roomId, bob.UserId), Is.EqualTo("leave"));
        var (status, _) = await PostAsync(bob, roomId, "join");
        Assert.That(status, Is.EqualTo(403), "the rejected invite no longer lets bob in");
    }

    [Test]
    public async Task Forget_is_refused_while_joined_and_after_leaving_the_history_is_gone()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        await Server.SendTextAsync(alice, roomId, "remember me");

        var (status, body) = await PostAsync(bob, roomId, "forget");
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_UNKNOWN"));

        await Server.LeaveAsync(bob, roomId);
        (status, _) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=b", accessToken: bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), "a left user still reads what they saw");

        (status, body) = await PostAsync(bob, roomId, "forget");
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=b", accessToken: bob.AccessToken);
        Assert.That(status, Is.EqualTo(403));
        (status, _) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/state", accessToken: bob.AccessToken);
        Assert.That(status, Is.EqualTo(403));

        await Server.JoinAsync(bob, roomId);
        (status, _) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=b", accessToken: bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), "joining again ends the forgetting");
    }

    [Test]
    public async Task Only_members_with_the_invite_level_may_invite()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        var carol = await NewUserAsync("carol");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat" });
        await Server.JoinAsync(bob, roomId);

        var (status, body) = await PostAsync(bob, roomId, "invite", new JsonObject { ["user_id"] = carol.UserId });
        Assert.That(status, Is.EqualTo(403), "public_chat needs power 50 to invite");
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));

        var stranger = await NewUserAsync("stranger");
        (status, _) = await PostAsync(stranger, roomId, "invite", new JsonObject { ["user_id"] = carol.UserId });
        Assert.That(status, Is.EqualTo(403), "only members invite");

        (status, _) = await PostAsync(alice, roomId, "invite", new JsonObject { ["user_id"] = carol.UserId });
        Assert.That(status, Is.EqualTo(200));
        (status, _) = await PostAsync(alice, roomId, "invite", new JsonObject { ["user_id"] = carol.UserId });
        Assert.That(status, Is.EqualTo(200), "inviting someone already invited is fine");
        (status, body) = await PostAsync(alice, roomId, "invite", new JsonObject { ["user_id"] = bob.UserId });
        Assert.That(status, Is.EqualTo(403), "bob is already joined");

        (status, body) = await PostAsync(alice, roomId, "invite", new JsonObject());
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_MISSING_PARAM"));
    }

    [Test]
    public async Task Kicking_needs_the_kick_level_and_a_lower_target_and_the_target_in_the_room()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        var carol = await NewUserAsync("carol");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat", ["room_version"] = "11" });
        await Server.JoinAsync(bob, roomId);
        await Server.JoinAsync(carol, roomId);

        var (status, body) = await PostAsync(bob, roomId, "kick", new JsonObject { ["user_id"] = alice.UserId });
        Assert.That(status, Is.EqualTo(403), "bob may not kick the higher-powered alice");
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
        (status, _) = await PostAsync(bob, roomId, "kick", new JsonObject { ["user_id"] = carol.UserId });
        Assert.That(status, Is.EqualTo(403), "bob lacks the kick level");

        (status, body) = await PostAsync(alice, roomId, "kick", new JsonObject { ["user_id"] = carol.UserId, ["reason"] = "too loud" });
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var member = await Server.GetStateAsync(alice, roomId, "m.room.member", carol.UserId);
        Assert.That((string?)member["membership"], Is.EqualTo("leave"));
        Assert.That((string?)member["reason"], Is.EqualTo("too loud"));

        (status, _) = await PostAsync(alice, roomId, "kick", new JsonObject { ["user_id"] = carol.UserId });
        Assert.That(status, Is.EqualTo(403), "carol is no longer in the room");
        (status, _) = await PostAsync(carol, roomId, "join");
        Assert.That(status, Is.EqualTo(200), "a kicked user may join a public room again");
    }

    [Test]
    public async Task A_banned_user_cannot_join_until_unbanned()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");

        var (status, body) = await PostAsync(alice, roomId, "ban", new JsonObject { ["user_id"] = bob.UserId, ["reason"] = "spam" });
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(await MembershipAsync(alice, roomId, bob.UserId), Is.EqualTo("ban"));
        (status, body) = await PostAsync(bob, roomId, "join");
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
        (status, _) = await PostAsync(alice, roomId, "invite", new JsonObject { ["user_id"] = bob.UserId });
        Assert.That(status, Is.EqualTo(403), "banned users cannot be invited");

        (status, _) = await PostAsync(alice, roomId, "unban", new JsonObject { ["user_id"] = bob.UserId });
        Assert.That(status, Is.EqualTo(200));
        Assert.That(await MembershipAsync(alice, roomId, bob.UserId), Is.EqualTo("leave"));
        (status, _) = await PostAsync(bob, roomId, "join");
        Assert.That(status, Is.EqualTo(200));

        (status, body) = await PostAsync(alice, roomId, "unban", new JsonObject { ["user_id"] = bob.UserId });
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_BAD_STATE"));
    }

    [Test]
    public async Task Banning_needs_the_ban_level()
    {
        var (alice, bob, carol, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var (status, body) = await PostAsync(bob, roomId, "ban", new JsonObject { ["user_id"] = carol.UserId });
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task Knocking_works_where_the_join_rule_allows_it_and_the_knock_can_be_accepted()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject
        {
            ["initial_state"] = new JsonArray(new JsonObject { ["type"] = "m.room.join_rules", ["content"] = new JsonObject { ["join_rule"] = "knock" } }),
        });

        var (status, body) = await Server.PostRawAsync(bob, $"{RoomApi.Client}/knock/{RoomApi.Escape(roomId)}", new JsonObject { ["reason"] = "let me in" });
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["room_id"], Is.EqualTo(roomId));
        var knock = await Server.GetStateAsync(alice, roomId, "m.room.member", bob.UserId);
        Assert.That((string?)knock["membership"], Is.EqualTo("knock"));
        Assert.That((string?)knock["reason"], Is.EqualTo("let me in"));

        await Server.InviteAsync(alice, roomId, bob.UserId);
        await Server.JoinAsync(bob, roomId);
        Assert.That(await MembershipAsync(alice, roomId, bob.UserId), Is.EqualTo("join"));
    }

    [Test]
    public async Task Knocking_where_the_join_rule_does_not_allow_it_is_403()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        var inviteOnly = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "private_chat" });
        var (status, body) = await Server.PostRawAsync(bob, $"{RoomApi.Client}/knock/{RoomApi.Escape(inviteOnly)}");
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));

        var oldVersion = await Server.CreateRoomAsync(alice, new JsonObject { ["room_version"] = "6" });
        (status, body) = await Server.PostRawAsync(bob, $"{RoomApi.Client}/knock/{RoomApi.Escape(oldVersion)}");
        Assert.That(status, Is.EqualTo(403), "room version 6 has no knocking");
    }

    [Test]
    public async Task A_restricted_room_admits_members_of_an_allowed_room_authorised_by_a_local_admin()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        var outsider = await NewUserAsync("outsider");
        var space = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat" });
        await Server.JoinAsync(bob, space);
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject
        {
            ["initial_state"] = new JsonArray(new JsonObject
            {
                ["type"] = "m.room.join_rules",
                ["content"] = new JsonObject
                {
                    ["join_rule"] = "restricted",
                    ["allow"] = new JsonArray(new JsonObject { ["type"] = "m.room_membership", ["room_id"] = space }),
                },
            }),
        });

        var (status, body) = await PostAsync(outsider, roomId, "join");
        Assert.That(status, Is.EqualTo(403), body?.ToJsonString());
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));

        (status, body) = await PostAsync(bob, roomId, "join");
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var member = await Server.GetStateAsync(alice, roomId, "m.room.member", bob.UserId);
        Assert.That((string?)member["membership"], Is.EqualTo("join"));
        Assert.That((string?)member["join_authorised_via_users_server"], Is.EqualTo(alice.UserId));
    }

    [Test]
    public async Task Members_lists_member_events_filtered_by_membership_and_at_a_token()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        var carol = await NewUserAsync("carol");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat" });
        await Server.JoinAsync(bob, roomId);
        var (_, page) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=b&limit=1", accessToken: alice.AccessToken);
        var beforeCarol = (string)page!["start"]!;
        await Server.InviteAsync(alice, roomId, carol.UserId);

        async Task<List<string>> MembersAsync(string query)
        {
            var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/members{query}", accessToken: bob.AccessToken);
            Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
            return [.. body!["chunk"]!.AsArray().Select(e => $"{e!["state_key"]}={e["content"]!["membership"]}").Order()];
        }

        Assert.That(await MembersAsync(""), Is.EquivalentTo(new[] { $"{alice.UserId}=join", $"{bob.UserId}=join", $"{carol.UserId}=invite" }));
        Assert.That(await MembersAsync("?membership=invite"), Is.EqualTo(new[] { $"{carol.UserId}=invite" }));
        Assert.That(await MembersAsync("?not_membership=join"), Is.EqualTo(new[] { $"{carol.UserId}=invite" }));
        Assert.That(await MembersAsync("?membership=invite&not_membership=invite"), Is.EquivalentTo(new[] { $"{alice.UserId}=join", $"{bob.UserId}=join", $"{carol.UserId}=invite" }));
        Assert.That(await MembersAsync($"?at={beforeCarol}"), Is.EquivalentTo(new[] { $"{alice.UserId}=join", $"{bob.UserId}=join" }));

        var stranger = await NewUserAsync("stranger");
        var (forbidden, error) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/members", accessToken: stranger.AccessToken);
        Assert.That(forbidden, Is.EqualTo(403));
        Assert.That(error.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task Joined_members_maps_joined_users_to_their_names_and_only_for_members()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        var carol = await NewUserAsync("carol");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat", ["invite"] = new JsonArray(carol.UserId) });
        await Server.JoinAsync(bob, roomId);

        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/joined_members", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        var joined = body!["joined"]!.AsObject();
        Assert.That(joined.Select(p => p.Key), Is.EquivalentTo(new[] { alice.UserId, bob.UserId }));
        Assert.That((string?)joined[bob.UserId]!["display_name"], Is.EqualTo(bob.UserId[1..bob.UserId.IndexOf(':')]));

        (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/joined_members", accessToken: carol.AccessToken);
        Assert.That(status, Is.EqualTo(403), "invited is not joined");
    }
}
