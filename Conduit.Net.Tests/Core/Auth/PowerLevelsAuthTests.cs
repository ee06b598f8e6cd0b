using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;
using static Conduit.Net.Tests.Core.Auth.AuthTestRoom;

namespace Conduit.Net.Tests.Core.Auth;

/// <summary>
/// Rule 10, <c>m.room.power_levels</c>: well-formed content per room version, and the changes a sender
/// may make; and the <see cref="PowerLevels"/> accessor the rules and the services share.
/// </summary>
public sealed class PowerLevelsAuthTests
{
    /// <summary>A room where Bob is a moderator (50) and Carol a user (0), both joined.</summary>
    private static AuthTestRoom ModeratedRoom(RoomVersion version, Action<JsonObject>? edit = null)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.Join(Carol);
        room.Join(Dave);
        var content = room.PowerLevelsContent((Bob, 50), (Dave, 50));
        edit?.Invoke(content);
        room.SetPowerLevels(content);
        return room;
    }

    /// <summary>The current power levels content, changed by <paramref name="edit"/>, as sent by <paramref name="sender"/>.</summary>
    private static AuthResult Change(AuthTestRoom room, string sender, Action<JsonObject> edit)
    {
        var content = room.State.Find(EventTypes.PowerLevels, "")!.Content.DeepClone().AsObject();
        edit(content);
        return room.Check(EventTypes.PowerLevels, sender, content, "");
    }

    private static JsonObject Users(JsonObject content) => content["users"]!.AsObject();

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_user_may_give_others_up_to_their_own_level(RoomVersion version)
    {
        var room = ModeratedRoom(version);
        Assert.That(Change(room, Bob, pl => Users(pl)[Carol] = 50).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_user_cannot_raise_their_own_power_level_above_their_own(RoomVersion version)
    {
        var room = ModeratedRoom(version);
        Assert.Multiple(() =>
        {
            Assert.That(Change(room, Bob, pl => Users(pl)[Bob] = 51).Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Bob, pl => Users(pl)[Carol] = 51).Rule, Is.EqualTo(AuthRule.PowerLevels));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_user_cannot_change_the_level_of_an_equal_or_higher_user(RoomVersion version)
    {
        var room = ModeratedRoom(version);
        Assert.Multiple(() =>
        {
            Assert.That(Change(room, Bob, pl => Users(pl)[Dave] = 0).Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Bob, pl => Users(pl).Remove(Dave)).Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Alice, pl => Users(pl)[Dave] = 0).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_user_may_lower_their_own_level(RoomVersion version)
    {
        var room = ModeratedRoom(version);
        Assert.Multiple(() =>
        {
            Assert.That(Change(room, Bob, pl => Users(pl)[Bob] = 10).IsAllowed, Is.True);
            Assert.That(Change(room, Bob, pl => Users(pl).Remove(Bob)).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_user_without_the_level_for_power_levels_cannot_send_them(RoomVersion version)
    {
        var room = ModeratedRoom(version);
        Assert.That(Change(room, Carol, pl => Users(pl).Remove(Bob)).Rule, Is.EqualTo(AuthRule.RequiredPowerLevel));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Top_level_levels_above_the_sender_cannot_be_set_nor_changed(RoomVersion version)
    {
        var room = ModeratedRoom(version, pl => pl["kick"] = 75);
        Assert.Multiple(() =>
        {
            Assert.That(Change(room, Bob, pl => pl["ban"] = 60).Rule, Is.EqualTo(AuthRule.PowerLevels), "new value above the sender");
            Assert.That(Change(room, Bob, pl => pl["kick"] = 40).Rule, Is.EqualTo(AuthRule.PowerLevels), "current value above the sender");
            Assert.That(Change(room, Bob, pl => pl.Remove("kick")).Rule, Is.EqualTo(AuthRule.PowerLevels), "removing a value above the sender");
            Assert.That(Change(room, Bob, pl => pl["ban"] = 40).IsAllowed, Is.True);
            Assert.That(Change(room, Bob, pl => pl["users_default"] = 50).IsAllowed, Is.True);
            Assert.That(Change(room, Bob, pl => pl["users_default"] = 51).Rule, Is.EqualTo(AuthRule.PowerLevels));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Event_levels_above_the_sender_cannot_be_set_nor_changed(RoomVersion version)
    {
        var room = ModeratedRoom(version, pl => pl["events"] = new JsonObject { ["m.room.name"] = 50, ["m.room.tombstone"] = 100 });
        Assert.Multiple(() =>
        {
            Assert.That(Change(room, Bob, pl => pl["events"]!["m.room.topic"] = 50).IsAllowed, Is.True);
            Assert.That(Change(room, Bob, pl => pl["events"]!["m.room.topic"] = 60).Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Bob, pl => pl["events"]!["m.room.tombstone"] = 50).Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Bob, pl => pl["events"]!.AsObject().Remove("m.room.tombstone")).Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Bob, pl => pl["events"]!["m.room.name"] = 0).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.NotificationsRule))]
    public void From_version_6_notification_levels_above_the_sender_cannot_be_changed(RoomVersion version)
    {
        var room = ModeratedRoom(version, pl => pl["notifications"] = new JsonObject { ["room"] = 100 });
        Assert.Multiple(() =>
        {
            Assert.That(Change(room, Bob, pl => pl["notifications"]!["room"] = 0).Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Bob, pl => pl["notifications"]!["org.example"] = 60).Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Bob, pl => pl["notifications"]!["org.example"] = 50).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.NoNotificationsRule))]
    public void Before_version_6_notification_levels_are_not_checked(RoomVersion version)
    {
        var room = ModeratedRoom(version, pl => pl["notifications"] = new JsonObject { ["room"] = 100 });
        Assert.That(Change(room, Bob, pl => pl["notifications"]!["room"] = 0).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Users_must_be_keyed_by_user_ids(RoomVersion version)
    {
        var room = ModeratedRoom(version);
        Assert.Multiple(() =>
        {
            Assert.That(Change(room, Alice, pl => Users(pl)["bob"] = 10).Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Alice, pl => pl["users"] = new JsonArray()).Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Alice, pl => Users(pl)[Carol] = true).Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Alice, pl => pl["events"] = new JsonObject { ["m.room.name"] = "fifty" }).Rule, Is.EqualTo(AuthRule.PowerLevels));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.StringPowerLevels))]
    public void Before_version_10_power_levels_may_be_strings_holding_integers(RoomVersion version)
    {
        var room = ModeratedRoom(version);
        Assert.Multiple(() =>
        {
            Assert.That(Change(room, Bob, pl => Users(pl)[Carol] = "50").IsAllowed, Is.True);
            Assert.That(Change(room, Bob, pl => Users(pl)[Carol] = " +0050 ").IsAllowed, Is.True);
            Assert.That(Change(room, Bob, pl => Users(pl)[Carol] = "51").Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Bob, pl => pl["ban"] = "-10").IsAllowed, Is.True);
            Assert.That(Change(room, Bob, pl => pl["events"] = new JsonObject { ["m.room.name"] = "000050" }).IsAllowed, Is.True);
            Assert.That(Change(room, Bob, pl => Users(pl)[Carol] = "5.0").Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Bob, pl => Users(pl)[Carol] = "+-5").Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Bob, pl => Users(pl)[Carol] = "").Rule, Is.EqualTo(AuthRule.PowerLevels));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.StringPowerLevels))]
    public void Before_version_10_string_levels_count_as_their_numbers(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.Join(Carol);
        room.SetPowerLevels(EventAuthTests.EditedLevels(room, pl => pl["kick"] = "40", (Bob, 50)));
        var levels = PowerLevels.Of(room.State, version);
        Assert.That(levels.Kick, Is.EqualTo(40));
        Assert.That(room.Check(EventTypes.Member, Bob, MemberContent(Membership.Leave), Carol).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.IntegerOnlyPowerLevels))]
    public void From_version_10_a_power_level_as_a_string_is_rejected(RoomVersion version)
    {
        var room = ModeratedRoom(version);
        Assert.Multiple(() =>
        {
            Assert.That(Change(room, Bob, pl => Users(pl)[Carol] = "50").Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Bob, pl => pl["ban"] = "50").Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Bob, pl => pl["events"] = new JsonObject { ["m.room.name"] = "50" }).Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Bob, pl => pl["notifications"] = new JsonObject { ["room"] = "50" }).Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(Change(room, Bob, pl => pl["notifications"] = "none").Rule, Is.EqualTo(AuthRule.PowerLevels));
        });
    }

    /// <remarks>
    /// Versions 3 to 5 accept floats too, but an event holding one cannot be parsed there yet: its id is
    /// a reference hash, and canonical JSON has no encoding for floats. Versions 1 and 2 carry their ids.
    /// </remarks>
    [TestCase("1")]
    [TestCase("2")]
    public void Before_version_6_float_power_levels_are_truncated(string id)
    {
        var version = RoomVersion.Get(id);
        var room = ModeratedRoom(version);
        Assert.Multiple(() =>
        {
            Assert.That(Change(room, Bob, pl => Users(pl)[Carol] = 50.57).IsAllowed, Is.True);
            Assert.That(Change(room, Bob, pl => Users(pl)[Carol] = 51.2).Rule, Is.EqualTo(AuthRule.PowerLevels));
        });
        room.SetPowerLevels(EventAuthTests.EditedLevels(room, pl => pl["kick"] = 4.0114698E1, (Bob, 50)));
        Assert.That(PowerLevels.Of(room.State, version).Kick, Is.EqualTo(40));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void The_first_power_levels_event_is_only_checked_for_its_shape(RoomVersion version)
    {
        var room = Created(version);
        room.Join(Alice);
        var content = new JsonObject { ["users"] = new JsonObject { [Bob] = 100 }, ["ban"] = 0 };
        Assert.That(room.Check(EventTypes.PowerLevels, Alice, content, "").IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.CreatorsUnlimited))]
    public void From_version_12_power_levels_may_not_list_a_creator(RoomVersion version)
    {
        var room = Created(version, editContent: content => content["additional_creators"] = new JsonArray(Bob));
        room.Join(Alice);
        Assert.Multiple(() =>
        {
            Assert.That(room.Check(EventTypes.PowerLevels, Alice, new JsonObject { ["users"] = new JsonObject { [Alice] = 100 } }, "").Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(room.Check(EventTypes.PowerLevels, Alice, new JsonObject { ["users"] = new JsonObject { [Bob] = 100 } }, "").Rule, Is.EqualTo(AuthRule.PowerLevels));
            Assert.That(room.Check(EventTypes.PowerLevels, Alice, new JsonObject { ["users"] = new JsonObject { [Carol] = 100 } }, "").IsAllowed, Is.True);
        });
    }

    [TestCase("11")]
    [TestCase("1")]
    public void Before_version_12_the_creator_may_be_listed(string id)
    {
        var room = Created(RoomVersion.Get(id));
        room.Join(Alice);
        Assert.That(room.Check(EventTypes.PowerLevels, Alice, new JsonObject { ["users"] = new JsonObject { [Alice] = 100 } }, "").IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.CreatorsUnlimited))]
    public void From_version_12_creators_have_unlimited_power(RoomVersion version)
    {
        var room = ModeratedRoom(version, pl => Users(pl)[Dave] = Conduit.Net.Core.Json.CanonicalJson.MaxInteger);
        Assert.Multiple(() =>
        {
            Assert.That(PowerLevels.Of(room.State, version).UserLevel(Alice), Is.EqualTo(PowerLevels.Unlimited));
            Assert.That(Change(room, Alice, pl => Users(pl)[Dave] = 0).IsAllowed, Is.True);
            Assert.That(Change(room, Alice, pl => pl["state_default"] = Conduit.Net.Core.Json.CanonicalJson.MaxInteger).IsAllowed, Is.True);
            Assert.That(Change(room, Dave, pl => pl["users_default"] = 1).IsAllowed, Is.True);
        });
    }

    // The accessor

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Without_a_power_levels_event_the_defaults_apply(RoomVersion version)
    {
        var room = Created(version);
        var levels = PowerLevels.Of(room.State, version);
        Assert.Multiple(() =>
        {
            Assert.That(levels.HasPowerLevelsEvent, Is.False);
            Assert.That(levels.UserLevel(Alice), Is.EqualTo(version.PrivilegedCreators ? PowerLevels.Unlimited : 100));
            Assert.That(levels.UserLevel(Bob), Is.Zero);
            Assert.That(levels.Ban, Is.EqualTo(50));
            Assert.That(levels.Kick, Is.EqualTo(50));
            Assert.That(levels.Redact, Is.EqualTo(50));
            Assert.That(levels.Invite, Is.Zero);
            Assert.That(levels.RequiredLevel("m.room.name", isState: true), Is.EqualTo(50));
            Assert.That(levels.RequiredLevel("m.room.message", isState: false), Is.Zero);
            Assert.That(levels.NotificationLevel(PowerLevels.RoomNotification), Is.EqualTo(50));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void An_empty_power_levels_event_gives_everyone_users_default(RoomVersion version)
    {
        var room = Created(version);
        room.Join(Alice);
        room.Send(EventTypes.PowerLevels, Alice, new JsonObject(), "");
        var levels = PowerLevels.Of(room.State, version);
        Assert.Multiple(() =>
        {
            Assert.That(levels.HasPowerLevelsEvent, Is.True);
            Assert.That(levels.UserLevel(Alice), Is.EqualTo(version.PrivilegedCreators ? PowerLevels.Unlimited : 0));
            Assert.That(levels.RequiredLevel("m.room.name", isState: true), Is.EqualTo(50));
            Assert.That(levels.MaySend(Bob, "m.room.message", isState: false), Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Explicit_levels_are_read(RoomVersion version)
    {
        var room = ModeratedRoom(version, pl =>
        {
            pl["users_default"] = 5;
            pl["events_default"] = 1;
            pl["state_default"] = 40;
            pl["ban"] = 45;
            pl["kick"] = 44;
            pl["redact"] = 43;
            pl["invite"] = 42;
            pl["events"] = new JsonObject { ["m.room.name"] = 30 };
            pl["notifications"] = new JsonObject { ["room"] = 20 };
        });
        var levels = PowerLevels.Of(room.State, version);
        Assert.Multiple(() =>
        {
            Assert.That(levels.UserLevel(Bob), Is.EqualTo(50));
            Assert.That(levels.UserLevel(Carol), Is.EqualTo(5));
            Assert.That(levels.EventsDefault, Is.EqualTo(1));
            Assert.That(levels.StateDefault, Is.EqualTo(40));
            Assert.That((levels.Ban, levels.Kick, levels.Redact, levels.Invite), Is.EqualTo((45L, 44L, 43L, 42L)));
            Assert.That(levels.RequiredLevel("m.room.name", isState: true), Is.EqualTo(30));
            Assert.That(levels.RequiredLevel("m.room.topic", isState: true), Is.EqualTo(40));
            Assert.That(levels.RequiredLevel("m.room.message", isState: false), Is.EqualTo(1));
            Assert.That(levels.NotificationLevel(PowerLevels.RoomNotification), Is.EqualTo(20));
            Assert.That(levels.MaySend(Carol, "m.room.message", isState: false), Is.True);
            Assert.That(levels.MaySend(Carol, "m.room.topic", isState: true), Is.False);
        });
    }
}
