using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;

namespace Conduit.Net.Tests.Rooms;

/// <summary><c>POST /createRoom</c>: presets, every request field, the spec's event order, errors.</summary>
public sealed class CreateRoomTests : ServerFixture
{
    private Task<TestSession> NewUserAsync() => Server.RegisterAsync(Accounts.UniqueName("creator"));

    [Test]
    public async Task A_room_of_the_default_version_12_has_a_room_id_derived_from_its_create_event()
    {
        var alice = await NewUserAsync();
        var roomId = await Server.CreateRoomAsync(alice);

        Assert.That(roomId, Does.Match("^![A-Za-z0-9_-]{43}$"));
        var create = await Server.GetStateAsync(alice, roomId, "m.room.create");
        Assert.That((string?)create["room_version"], Is.EqualTo("12"));
        Assert.That(create["creator"], Is.Null, "room version 11 on has no creator key: the sender is the creator");

        var (status, createEvent) = await Server.GetStateRawAsync(alice, roomId, "m.room.create", "", "event");
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)createEvent!["event_id"], Is.EqualTo("$" + roomId[1..]));
        Assert.That((string?)createEvent["room_id"], Is.EqualTo(roomId));
        Assert.That((string?)createEvent["sender"], Is.EqualTo(alice.UserId));
    }

    [Test]
    public async Task Identical_rooms_created_at_once_by_one_user_get_distinct_ids()
    {
        var alice = await NewUserAsync();
        var ids = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Server.CreateRoomAsync(alice)));
        Assert.That(ids, Is.Unique);
        var (_, joined) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/joined_rooms", accessToken: alice.AccessToken);
        Assert.That(joined!["joined_rooms"]!.AsArray().Select(n => (string?)n), Is.EquivalentTo(ids));
    }

    [Test]
    public async Task The_private_chat_preset_gives_invite_join_rules_shared_history_and_guest_access()
    {
        var alice = await NewUserAsync();
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "private_chat" });

        Assert.That((string?)(await Server.GetStateAsync(alice, roomId, "m.room.join_rules"))["join_rule"], Is.EqualTo("invite"));
        Assert.That((string?)(await Server.GetStateAsync(alice, roomId, "m.room.history_visibility"))["history_visibility"], Is.EqualTo("shared"));
        Assert.That((string?)(await Server.GetStateAsync(alice, roomId, "m.room.guest_access"))["guest_access"], Is.EqualTo("can_join"));
        var levels = await Server.GetStateAsync(alice, roomId, "m.room.power_levels");
        Assert.That(levels["users"]!.AsObject().ContainsKey(alice.UserId), Is.False, "version 12 creators are not listed");
        Assert.That((int?)levels["events"]!["m.room.tombstone"], Is.EqualTo(150));
        Assert.That((int?)levels["state_default"], Is.EqualTo(50));
    }

    [Test]
    public async Task The_public_chat_preset_gives_public_join_rules_and_forbids_guests()
    {
        var alice = await NewUserAsync();
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat" });

        Assert.That((string?)(await Server.GetStateAsync(alice, roomId, "m.room.join_rules"))["join_rule"], Is.EqualTo("public"));
        Assert.That((string?)(await Server.GetStateAsync(alice, roomId, "m.room.history_visibility"))["history_visibility"], Is.EqualTo("shared"));
        Assert.That((string?)(await Server.GetStateAsync(alice, roomId, "m.room.guest_access"))["guest_access"], Is.EqualTo("forbidden"));
    }

    [Test]
    public async Task Without_a_preset_public_visibility_means_public_chat()
    {
        var alice = await NewUserAsync();
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["visibility"] = "public" });
        Assert.That((string?)(await Server.GetStateAsync(alice, roomId, "m.room.join_rules"))["join_rule"], Is.EqualTo("public"));

        var privateRoom = await Server.CreateRoomAsync(alice);
        Assert.That((string?)(await Server.GetStateAsync(alice, privateRoom, "m.room.join_rules"))["join_rule"], Is.EqualTo("invite"));
    }

    [Test]
    public async Task In_room_version_10_the_creator_is_listed_at_100_and_in_the_create_event()
    {
        var alice = await NewUserAsync();
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["room_version"] = "10" });

        Assert.That(roomId, Does.EndWith(":localhost"));
        var create = await Server.GetStateAsync(alice, roomId, "m.room.create");
        Assert.That((string?)create["creator"], Is.EqualTo(alice.UserId));
        Assert.That((string?)create["room_version"], Is.EqualTo("10"));
        var levels = await Server.GetStateAsync(alice, roomId, "m.room.power_levels");
        Assert.That((int?)levels["users"]![alice.UserId], Is.EqualTo(100));
        Assert.That((int?)levels["events"]!["m.room.tombstone"], Is.EqualTo(100));
    }

    [Test]
    public async Task Trusted_private_chat_makes_invitees_additional_creators_in_version_12_and_admins_before()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject
        {
            ["preset"] = "trusted_private_chat",
            ["invite"] = new JsonArray(bob.UserId),
        });
        var create = await Server.GetStateAsync(alice, roomId, "m.room.create");
        Assert.That(create["additional_creators"]!.AsArray().Select(n => (string?)n), Is.EqualTo(new[] { bob.UserId }));

        var oldRoom = await Server.CreateRoomAsync(alice, new JsonObject
        {
            ["preset"] = "trusted_private_chat",
            ["invite"] = new JsonArray(bob.UserId),
            ["room_version"] = "11",
        });
        var levels = await Server.GetStateAsync(alice, oldRoom, "m.room.power_levels");
        Assert.That((int?)levels["users"]![bob.UserId], Is.EqualTo(100));
    }

    [Test]
    public async Task Name_topic_alias_initial_state_and_overrides_are_applied()
    {
        var alice = await NewUserAsync();
        var aliasName = Accounts.UniqueName("pub");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject
        {
            ["preset"] = "public_chat",
            ["room_alias_name"] = aliasName,
            ["name"] = "The Grand Duke Pub",
            ["topic"] = "All about happy hour",
            ["creation_content"] = new JsonObject { ["m.federate"] = false, ["creator"] = "@someone:else" },
            ["initial_state"] = new JsonArray(
                new JsonObject { ["type"] = "m.room.history_visibility", ["content"] = new JsonObject { ["history_visibility"] = "joined" } },
                new JsonObject { ["type"] = "m.room.name", ["content"] = new JsonObject { ["name"] = "overridden by name" } },
                new JsonObject { ["type"] = "com.example.custom", ["state_key"] = "k", ["content"] = new JsonObject { ["x"] = 1 } }),
            ["power_level_content_override"] = new JsonObject { ["events_default"] = 10, ["invite"] = 75 },
        });

        Assert.That((string?)(await Server.GetStateAsync(alice, roomId, "m.room.name"))["name"], Is.EqualTo("The Grand Duke Pub"));
        var topic = await Server.GetStateAsync(alice, roomId, "m.room.topic");
        Assert.That((string?)topic["topic"], Is.EqualTo("All about happy hour"));
        Assert.That((string?)topic["m.topic"]!["m.text"]![0]!["mimetype"], Is.EqualTo("text/plain"));
        Assert.That((string?)(await Server.GetStateAsync(alice, roomId, "m.room.canonical_alias"))["alias"], Is.EqualTo($"#{aliasName}:localhost"));
        Assert.That((string?)(await Server.GetStateAsync(alice, roomId, "m.room.history_visibility"))["history_visibility"], Is.EqualTo("joined"));
        Assert.That((int?)(await Server.GetStateAsync(alice, roomId, "com.example.custom", "k"))["x"], Is.EqualTo(1));
        var create = await Server.GetStateAsync(alice, roomId, "m.room.create");
        Assert.That((bool?)create["m.federate"], Is.False);
        Assert.That(create["creator"], Is.Null, "the server overwrites creator");
        var levels = await Server.GetStateAsync(alice, roomId, "m.room.power_levels");
        Assert.That((int?)levels["events_default"], Is.EqualTo(10));
        Assert.That((int?)levels["invite"], Is.EqualTo(75));
        Assert.That((int?)levels["ban"], Is.EqualTo(50), "keys the override does not name keep their defaults");
    }

    [Test]
    public async Task The_state_events_come_in_the_order_the_spec_gives()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject
        {
            ["room_alias_name"] = Accounts.UniqueName("ordered"),
            ["name"] = "n",
            ["topic"] = "t",
            ["invite"] = new JsonArray(bob.UserId),
            ["is_direct"] = true,
            ["initial_state"] = new JsonArray(new JsonObject { ["type"] = "com.example.first", ["content"] = new JsonObject() }),
        });
        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=f&limit=50", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var order = body!["chunk"]!.AsArray().Select(e => $"{e!["type"]}|{e["state_key"]}").ToList();
        Assert.That(order, Is.EqualTo(new[]
        {
            "m.room.create|",
            $"m.room.member|{alice.UserId}",
            "m.room.power_levels|",
            "m.room.canonical_alias|",
            "m.room.join_rules|",
            "m.room.history_visibility|",
            "m.room.guest_access|",
            "com.example.first|",
            "m.room.name|",
            "m.room.topic|",
            $"m.room.member|{bob.UserId}",
        }));
        var invite = body["chunk"]!.AsArray().Last()!;
        Assert.That((bool?)invite["content"]!["is_direct"], Is.True);
        Assert.That((string?)invite["content"]!["membership"], Is.EqualTo("invite"));
    }

    [Test]
    public async Task The_creator_joins_with_their_display_name()
    {
        var alice = await NewUserAsync();
        await Server.SendAsync(HttpMethod.Put, $"/_matrix/client/v3/profile/{Uri.EscapeDataString(alice.UserId)}/displayname", new JsonObject { ["displayname"] = "Alice A." }, alice.AccessToken);
        var roomId = await Server.CreateRoomAsync(alice);
        var member = await Server.GetStateAsync(alice, roomId, "m.room.member", alice.UserId);
        Assert.That((string?)member["membership"], Is.EqualTo("join"));
        Assert.That((string?)member["displayname"], Is.EqualTo("Alice A."));
    }

    [Test]
    public async Task An_unknown_room_version_is_400_M_UNSUPPORTED_ROOM_VERSION()
    {
        var alice = await NewUserAsync();
        var (status, body) = await Server.CreateRoomRawAsync(alice, new JsonObject { ["room_version"] = "99" });
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_UNSUPPORTED_ROOM_VERSION"));
    }

    [Test]
    public async Task An_alias_already_taken_is_400_M_ROOM_IN_USE_and_no_room_is_left_behind()
    {
        var alice = await NewUserAsync();
        var aliasName = Accounts.UniqueName("taken");
        await Server.CreateRoomAsync(alice, new JsonObject { ["room_alias_name"] = aliasName });
        var (status, body) = await Server.CreateRoomRawAsync(alice, new JsonObject { ["room_alias_name"] = aliasName });
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_ROOM_IN_USE"));

        var (_, joined) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/joined_rooms", accessToken: alice.AccessToken);
        Assert.That(joined!["joined_rooms"]!.AsArray(), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Power_levels_that_lock_the_creator_out_are_400_M_INVALID_ROOM_STATE()
    {
        var alice = await NewUserAsync();
        var (status, body) = await Server.CreateRoomRawAsync(alice, new JsonObject
        {
            ["room_version"] = "10",
            ["power_level_content_override"] = new JsonObject { ["users"] = new JsonObject { [alice.UserId] = 10 } },
            ["name"] = "needs 50",
        });
        Assert.That(status, Is.EqualTo(400), body?.ToJsonString());
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_ROOM_STATE"));
    }

    [TestCase("{\"preset\": \"secret_chat\"}", "M_INVALID_PARAM")]
    [TestCase("{\"visibility\": \"hidden\"}", "M_INVALID_PARAM")]
    [TestCase("{\"invite\": [\"not-a-user\"]}", "M_INVALID_PARAM")]
    [TestCase("{\"name\": 5}", "M_BAD_JSON")]
    [TestCase("{\"initial_state\": [{\"type\": \"x\"}]}", "M_BAD_JSON")]
    [TestCase("{\"room_alias_name\": \"a:b\"}", "M_INVALID_PARAM")]
    public async Task Malformed_requests_are_400(string body, string errcode)
    {
        var alice = await NewUserAsync();
        var (status, json) = await Server.SendRawAsync(HttpMethod.Post, $"{RoomApi.Client}/createRoom", body, alice.AccessToken);
        Assert.That(status, Is.EqualTo(400), json?.ToJsonString());
        Assert.That(json.ErrCode(), Is.EqualTo(errcode));
    }
}
