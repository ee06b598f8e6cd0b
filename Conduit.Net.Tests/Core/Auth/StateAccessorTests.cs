using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;
using static Conduit.Net.Tests.Core.Auth.AuthTestRoom;

namespace Conduit.Net.Tests.Core.Auth;

/// <summary>The readers of membership, join rules and creators that the rules and the services share.</summary>
public sealed class StateAccessorTests
{
    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_user_without_a_member_event_counts_as_left(RoomVersion version)
    {
        var room = Standard(version);
        room.Invite(Alice, Bob);
        Assert.Multiple(() =>
        {
            Assert.That(Membership.Of(room.State, Alice), Is.EqualTo(Membership.Join));
            Assert.That(Membership.Of(room.State, Bob), Is.EqualTo(Membership.Invite));
            Assert.That(Membership.Of(room.State, Carol), Is.EqualTo(Membership.Leave));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void The_join_rule_defaults_to_invite(RoomVersion version)
    {
        var room = Created(version);
        room.Join(Alice);
        Assert.That(JoinRules.Of(room.State), Is.EqualTo(JoinRules.Invite));
        room.SetJoinRule(JoinRules.Public);
        Assert.That(JoinRules.Of(room.State), Is.EqualTo(JoinRules.Public));
    }

    [Test]
    public void The_allow_list_of_a_restricted_room_names_rooms_by_membership_condition()
    {
        var content = new JsonObject
        {
            ["join_rule"] = JoinRules.Restricted,
            ["allow"] = new JsonArray(
                new JsonObject { ["type"] = JoinRules.RoomMembershipCondition, ["room_id"] = "!space:a.example" },
                new JsonObject { ["type"] = "org.example.condition", ["room_id"] = "!other:a.example" },
                new JsonObject { ["type"] = JoinRules.RoomMembershipCondition, ["room_id"] = "not a room" },
                "junk"),
        };
        Assert.That(JoinRules.AllowedRooms(content).Select(r => r.Value), Is.EqualTo((string[])["!space:a.example"]));
        Assert.That(JoinRules.AllowedRooms(new JsonObject { ["join_rule"] = JoinRules.Restricted }), Is.Empty);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void The_creators_follow_the_room_version(RoomVersion version)
    {
        var room = Created(version, editContent: content =>
        {
            content["additional_creators"] = new JsonArray(Bob);
            if (!version.CreatorIsSender)
                content["creator"] = Erin;
        });
        var expected = !version.CreatorIsSender ? [Erin] : version.PrivilegedCreators ? new[] { Alice, Bob } : [Alice];
        Assert.Multiple(() =>
        {
            Assert.That(RoomCreators.All(room.Create), Is.EqualTo(expected));
            Assert.That(RoomCreators.Original(room.Create), Is.EqualTo(version.CreatorIsSender ? Alice : Erin));
            Assert.That(RoomCreators.HasUnlimitedPower(room.Create, Bob), Is.EqualTo(RoomVersionCases.CreatorsUnlimited.Contains(version)));
        });
    }

    [Test]
    public void A_state_lookup_holds_state_events_only()
    {
        var room = Standard(RoomVersion.V12);
        var message = room.Build("m.room.message", Alice, new JsonObject { ["body"] = "hi" });
        var lookup = StateLookup.Of([room.Create]);
        Assert.Throws<ArgumentException>(() => lookup.Set(message));
        Assert.That(lookup.Find(EventTypes.Create, ""), Is.SameAs(room.Create));
        Assert.That(lookup.Find(EventTypes.Create, "x"), Is.Null);
    }
}
