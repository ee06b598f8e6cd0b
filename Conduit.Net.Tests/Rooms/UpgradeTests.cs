using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;

namespace Conduit.Net.Tests.Rooms;

/// <summary><c>POST /rooms/{roomId}/upgrade</c>: the replacement room, the tombstone, what moves and what is copied.</summary>
public sealed class UpgradeTests : ServerFixture
{
    private Task<(int Status, JsonNode? Body)> UpgradeAsync(TestSession who, string roomId, JsonObject body) =>
        Server.PostRawAsync(who, $"{RoomApi.RoomPath(roomId)}/upgrade", body);

    [Test]
    public async Task An_upgrade_makes_a_successor_with_the_state_and_aliases_and_tombstones_the_old_room()
    {
        var alice = await NewUserAsync("upgrader");
        var bob = await NewUserAsync("member");
        var aliasName = Accounts.UniqueName("moving");
        var oldRoom = await Server.CreateRoomAsync(alice, new JsonObject
        {
            ["room_version"] = "10",
            ["preset"] = "public_chat",
            ["visibility"] = "public",
            ["name"] = "Old name",
            ["topic"] = "Old topic",
            ["room_alias_name"] = aliasName,
        });
        await Server.JoinAsync(bob, oldRoom);
        var lastBefore = await Server.SendTextAsync(alice, oldRoom, "last words");

        var (status, body) = await UpgradeAsync(alice, oldRoom, new JsonObject { ["new_version"] = "12" });
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var newRoom = (string)body!["replacement_room"]!;
        Assert.That(newRoom, Is.Not.EqualTo(oldRoom));

        var tombstone = await Server.GetStateAsync(bob, oldRoom, "m.room.tombstone");
        Assert.That((string?)tombstone["replacement_room"], Is.EqualTo(newRoom));
        var oldLevels = await Server.GetStateAsync(bob, oldRoom, "m.room.power_levels");
        Assert.That((int?)oldLevels["events_default"], Is.GreaterThanOrEqualTo(50));
        Assert.That((int?)oldLevels["invite"], Is.GreaterThanOrEqualTo(50));
        var (sendStatus, _) = await Server.SendRawAsync(bob, oldRoom, "m.room.message", new JsonObject { ["body"] = "anyone?" });
        Assert.That(sendStatus, Is.EqualTo(403), "the old room is silenced");

        var create = await Server.GetStateAsync(alice, newRoom, "m.room.create");
        Assert.That((string?)create["room_version"], Is.EqualTo("12"));
        Assert.That((string?)create["predecessor"]!["room_id"], Is.EqualTo(oldRoom));
        Assert.That((string?)create["predecessor"]!["event_id"], Is.EqualTo(lastBefore));
        Assert.That((string?)(await Server.GetStateAsync(alice, newRoom, "m.room.name"))["name"], Is.EqualTo("Old name"));
        Assert.That((string?)(await Server.GetStateAsync(alice, newRoom, "m.room.topic"))["topic"], Is.EqualTo("Old topic"));
        Assert.That((string?)(await Server.GetStateAsync(alice, newRoom, "m.room.join_rules"))["join_rule"], Is.EqualTo("public"));
        var newLevels = await Server.GetStateAsync(alice, newRoom, "m.room.power_levels");
        Assert.That(newLevels["users"]!.AsObject().ContainsKey(alice.UserId), Is.False, "a version 12 creator is not listed");
        Assert.That((int?)newLevels["events"]!["m.room.tombstone"], Is.GreaterThan((int?)newLevels["state_default"] ?? 50));

        var (aliasStatus, alias) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/directory/room/{RoomApi.Escape($"#{aliasName}:localhost")}");
        Assert.That(aliasStatus, Is.EqualTo(200));
        Assert.That((string?)alias!["room_id"], Is.EqualTo(newRoom), "local aliases move to the new room");

        await Server.JoinAsync(bob, newRoom);
        await Server.SendTextAsync(bob, newRoom, "hello again");
    }

    [Test]
    public async Task Upgrading_needs_the_tombstone_power_level()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("owner", "member");
        var (status, body) = await UpgradeAsync(bob, roomId, new JsonObject { ["new_version"] = "12" });
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));

        var stranger = await NewUserAsync("stranger");
        (status, _) = await UpgradeAsync(stranger, roomId, new JsonObject { ["new_version"] = "12" });
        Assert.That(status, Is.EqualTo(403));
    }

    [Test]
    public async Task An_unknown_version_is_400_M_UNSUPPORTED_ROOM_VERSION()
    {
        var alice = await NewUserAsync("owner");
        var roomId = await Server.CreateRoomAsync(alice);
        var (status, body) = await UpgradeAsync(alice, roomId, new JsonObject { ["new_version"] = "1000" });
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_UNSUPPORTED_ROOM_VERSION"));
        (status, body) = await UpgradeAsync(alice, roomId, new JsonObject());
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_MISSING_PARAM"));
    }

    [Test]
    public async Task Upgrading_to_an_older_style_version_lists_the_upgrader_in_the_copied_power_levels()
    {
        var alice = await NewUserAsync("owner");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["room_version"] = "9" });
        var (status, body) = await UpgradeAsync(alice, roomId, new JsonObject { ["new_version"] = "11" });
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var newRoom = (string)body!["replacement_room"]!;
        Assert.That(newRoom, Does.EndWith(":localhost"));
        var create = await Server.GetStateAsync(alice, newRoom, "m.room.create");
        Assert.That((string?)create["room_version"], Is.EqualTo("11"));
        var levels = await Server.GetStateAsync(alice, newRoom, "m.room.power_levels");
        Assert.That((int?)levels["users"]![alice.UserId], Is.EqualTo(100));

        (status, body) = await UpgradeAsync(alice, roomId, new JsonObject { ["new_version"] = "12" });
        Assert.That(status, Is.EqualTo(403), "a room is upgraded once");
    }
}
