using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// A user of one real server joining a room of another through the client API: by id with via and by
/// alias (make_join, send_join, the answered state checked and stored), the room then in the joiner's
/// /sync with its state, the joiner among the resident server's members, and a banned user refused; a
/// restricted room joined through the resident server as authoriser; send_join with omit_members.
/// </summary>
public sealed class FederationJoinTests : FederatedFixture
{
    private TestSession _alice = null!;

    [OneTimeSetUp]
    public async Task RegisterAlice() => _alice = await NewUserAsync(A, "alice");

    private Task<string> PublicRoomAsync(string name, string? aliasLocalpart = null)
    {
        var extra = new JsonObject { ["name"] = name };
        if (aliasLocalpart is not null)
            extra["room_alias_name"] = aliasLocalpart;
        return PublicRoomAsync(A, _alice, extra);
    }

    private async Task AssertJoinedOnBothAsync(TestSession bob, string roomId, string name)
    {
        var (syncStatus, sync) = await B.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/sync", accessToken: bob.AccessToken);
        Assert.That(syncStatus, Is.EqualTo(200));
        var room = sync?["rooms"]?["join"]?[roomId];
        Assert.That(room, Is.Not.Null, "the room is in bob's sync on B");
        var events = (room!["state"]?["events"] as JsonArray ?? []).Concat(room["timeline"]?["events"] as JsonArray ?? []).ToList();
        Assert.That(events.Any(e => (string?)e?["type"] == "m.room.name" && (string?)e?["content"]?["name"] == name), Is.True, "the room's name reached B");
        Assert.That(events.Any(e => (string?)e?["type"] == "m.room.member" && (string?)e?["state_key"] == bob.UserId && (string?)e?["content"]?["membership"] == "join"), Is.True);
        Assert.That(events.Any(e => (string?)e?["type"] == "m.room.member" && (string?)e?["state_key"] == _alice.UserId), Is.True, "A's member is known on B");

        var (membersStatus, members) = await A.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/joined_members", accessToken: _alice.AccessToken);
        Assert.That(membersStatus, Is.EqualTo(200));
        Assert.That(members?["joined"]?[bob.UserId], Is.Not.Null, "bob is a member on A");
    }

    [Test]
    public async Task A_user_on_B_joins_a_public_room_of_A_by_id_with_via()
    {
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PublicRoomAsync("By id");

        var (status, body) = await JoinRawAsync(B, bob, roomId, A);

        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body?["room_id"], Is.EqualTo(roomId));
        await AssertJoinedOnBothAsync(bob, roomId, "By id");
    }

    [Test]
    public async Task After_a_remote_join_both_sides_receive_each_others_messages_in_order()
    {
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PublicRoomAsync("Chat");
        var (status, body) = await JoinRawAsync(B, bob, roomId, A);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());

        foreach (var n in Enumerable.Range(1, 3))
            await A.SendTextAsync(_alice, roomId, $"from A {n}");
        // B answers once A's messages are there, so the order is causal rather than a race between servers.
        await Poll.UntilAsync(async () => (await MessagesAsync(B, bob, roomId)).Count >= 3);
        foreach (var n in Enumerable.Range(1, 3))
            await B.SendTextAsync(bob, roomId, $"from B {n}");

        string[] expected = ["from A 1", "from A 2", "from A 3", "from B 1", "from B 2", "from B 3"];
        List<string> onA = [], onB = [];
        await Poll.UntilAsync(async () =>
        {
            onA = await MessagesAsync(A, _alice, roomId);
            onB = await MessagesAsync(B, bob, roomId);
            return onA.Count >= expected.Length && onB.Count >= expected.Length;
        });

        Assert.That(onA, Is.EqualTo(expected), "A serves every message once, in order");
        Assert.That(onB, Is.EqualTo(expected), "B serves every message once, in order");
    }

    [Test]
    public async Task A_user_on_B_joins_a_public_room_of_A_by_alias()
    {
        var bob = await NewUserAsync(B, "bob");
        var localpart = Accounts.UniqueName("joinme");
        var roomId = await PublicRoomAsync("By alias", localpart);

        var (status, body) = await JoinRawAsync(B, bob, $"#{localpart}:{A.Name()}");

        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body?["room_id"], Is.EqualTo(roomId));
        await AssertJoinedOnBothAsync(bob, roomId, "By alias");
    }

    [Test]
    public async Task A_banned_remote_user_cannot_join_403_M_FORBIDDEN()
    {
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PublicRoomAsync("Banned");
        var (banStatus, _) = await A.PostRawAsync(_alice, $"{RoomApi.RoomPath(roomId)}/ban", new JsonObject { ["user_id"] = bob.UserId });
        Assert.That(banStatus, Is.EqualTo(200));

        var (status, body) = await JoinRawAsync(B, bob, roomId, A);

        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
        var (_, rooms) = await B.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/joined_rooms", accessToken: bob.AccessToken);
        Assert.That(rooms?["joined_rooms"]?.AsArray().Select(r => (string?)r), Does.Not.Contain(roomId));
    }

    [Test]
    public async Task A_remote_user_joins_a_restricted_room_through_the_resident_server_as_authoriser()
    {
        var bob = await NewUserAsync(B, "bob");
        var carol = await NewUserAsync(B, "carol");
        var space = await PublicRoomAsync("Space");
        var restricted = await A.CreateRoomAsync(_alice, new JsonObject
        {
            ["preset"] = "private_chat",
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
        await JoinViaAsync(B, bob, space, A);

        var (status, body) = await JoinRawAsync(B, bob, restricted, A);
        var (refused, refusal) = await JoinRawAsync(B, carol, restricted, A);

        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var onA = await A.GetStateAsync(_alice, restricted, "m.room.member", bob.UserId);
        Assert.That(((string?)onA["membership"], (string?)onA["join_authorised_via_users_server"]), Is.EqualTo(("join", _alice.UserId)));
        var onB = await B.GetStateAsync(bob, restricted, "m.room.member", bob.UserId);
        Assert.That((string?)onB["join_authorised_via_users_server"], Is.EqualTo(_alice.UserId), "B stored the join A countersigned");
        Assert.That((refused, refusal.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")), "a user in none of the allowed rooms is refused");
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task Send_join_with_omit_members_leaves_the_member_events_out_and_names_the_servers(bool omitMembers)
    {
        var dave = await NewUserAsync(A, "dave");
        var roomId = await PublicRoomAsync("Omit");
        await A.JoinAsync(dave, roomId);
        var joiner = $"@omit-{Guid.NewGuid():N}:{B.Name()}";
        var room = RoomApi.Escape(roomId);
        var (eventId, join) = await SignedJoinAsync(B, A, roomId, joiner);

        var answer = await B.FederationClient().PutAsync(
            A.Name(), $"/_matrix/federation/v2/send_join/{room}/{RoomApi.Escape(eventId)}?omit_members={(omitMembers ? "true" : "false")}", join, CancellationToken.None);

        var stateTypes = answer["state"]!.AsArray().Select(e => (string?)e?["type"]).ToList();
        Assert.Multiple(() =>
        {
            Assert.That((bool?)answer["members_omitted"], Is.EqualTo(omitMembers));
            Assert.That(stateTypes, Does.Contain("m.room.create").And.Contain("m.room.power_levels"));
            Assert.That(stateTypes.Contains("m.room.member"), Is.EqualTo(!omitMembers));
            Assert.That(answer["servers_in_room"]!.AsArray().Select(s => (string?)s), Is.EquivalentTo(new[] { A.Name(), B.Name() }));
            Assert.That(answer["auth_chain"]!.AsArray().Any(e => (string?)e?["type"] == "m.room.member" && (string?)e?["state_key"] == _alice.UserId), Is.True,
                "the creator's join authorises the state, so it stays in the auth chain");
        });
    }
}
