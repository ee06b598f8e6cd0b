using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.RoomVersions;
using static Conduit.Net.Tests.Core.Auth.AuthTestRoom;

namespace Conduit.Net.Tests.Core.Auth;

/// <summary>
/// "Auth events selection" and rule 3 ("Considering the event's auth_events"), and step 4 of the
/// checks on receipt: an event against the state its own auth events make up.
/// </summary>
public sealed class AuthEventsTests
{
    private static readonly JsonObject Message = new() { ["msgtype"] = "m.text", ["body"] = "hi" };

    private static IReadOnlyList<(string, string)> Keys(RoomVersion version, string type, string? stateKey, string sender, JsonObject content) =>
        AuthEventsSelection.Keys(type, stateKey, UserId.Parse(sender), content, version);

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.ServerScopedRoomIds))]
    public void A_message_is_authorised_by_create_power_levels_and_the_senders_membership(RoomVersion version)
    {
        Assert.That(Keys(version, "m.room.message", null, Bob, Message), Is.EqualTo(new (string, string)[]
        {
            (EventTypes.Create, ""), (EventTypes.PowerLevels, ""), (EventTypes.Member, Bob),
        }));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.RoomIdIsCreateEventHash))]
    public void From_version_12_the_create_event_is_not_selected(RoomVersion version)
    {
        Assert.That(Keys(version, "m.room.message", null, Bob, Message), Is.EqualTo(new (string, string)[]
        {
            (EventTypes.PowerLevels, ""), (EventTypes.Member, Bob),
        }));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void The_create_event_has_no_auth_events(RoomVersion version)
    {
        Assert.That(Keys(version, EventTypes.Create, "", Alice, new JsonObject()), Is.Empty);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_membership_event_adds_the_target_and_for_join_invite_knock_the_join_rules(RoomVersion version)
    {
        Assert.Multiple(() =>
        {
            foreach (var membership in new[] { Membership.Join, Membership.Invite, Membership.Knock })
            {
                var keys = Keys(version, EventTypes.Member, Carol, Bob, MemberContent(membership));
                Assert.That(keys, Does.Contain((EventTypes.Member, Carol)).And.Contain((EventTypes.JoinRules, "")), membership);
            }
            foreach (var membership in new[] { Membership.Leave, Membership.Ban })
            {
                var keys = Keys(version, EventTypes.Member, Carol, Bob, MemberContent(membership));
                Assert.That(keys, Does.Contain((EventTypes.Member, Carol)).And.Not.Contain((EventTypes.JoinRules, "")), membership);
            }
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_third_party_invite_adds_the_invite_event_of_its_token(RoomVersion version)
    {
        var content = new JsonObject
        {
            ["membership"] = Membership.Invite,
            ["third_party_invite"] = new JsonObject { ["signed"] = new JsonObject { ["mxid"] = Carol, ["token"] = "tok" } },
        };
        Assert.That(Keys(version, EventTypes.Member, Carol, Bob, content), Does.Contain((EventTypes.ThirdPartyInvite, "tok")));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_restricted_join_adds_the_authorising_users_membership_where_the_version_has_restricted_rooms(RoomVersion version)
    {
        var content = new JsonObject { ["membership"] = Membership.Join, ["join_authorised_via_users_server"] = Carol };
        var keys = Keys(version, EventTypes.Member, Bob, Bob, content);
        if (version.RestrictedJoins)
            Assert.That(keys, Does.Contain((EventTypes.Member, Carol)));
        else
            Assert.That(keys, Does.Not.Contain((EventTypes.Member, Carol)));
        Assert.That(RoomVersionCases.Restricted.Contains(version), Is.EqualTo(version.RestrictedJoins));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Select_takes_the_events_that_exist_in_the_state(RoomVersion version)
    {
        var room = Standard(version);
        var selected = AuthEventsSelection.Select(EventTypes.Member, Bob, UserId.Parse(Bob), MemberContent(Membership.Join), version, room.State);
        var expected = new List<Pdu> { room.State.Find(EventTypes.PowerLevels, "")!, room.State.Find(EventTypes.JoinRules, "")! };
        if (version.CreateEventInAuthEvents)
            expected.Insert(0, room.Create);
        Assert.That(selected, Is.EqualTo(expected));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void An_event_passes_against_its_own_auth_events(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        Assert.Multiple(() =>
        {
            Assert.That(room.CheckAgainstAuthEvents(room.Build("m.room.message", Bob, Message)).IsAllowed, Is.True);
            Assert.That(room.CheckAgainstAuthEvents(room.Build(EventTypes.Member, Carol, MemberContent(Membership.Join), Carol)).IsAllowed, Is.True);
            Assert.That(room.CheckAgainstAuthEvents(room.Create).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void The_auth_events_decide_even_when_the_current_state_differs(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        var beforeBan = room.Build("m.room.message", Bob, Message);
        room.SetMembership(Alice, Bob, Membership.Ban);
        Assert.Multiple(() =>
        {
            Assert.That(room.CheckAgainstAuthEvents(beforeBan).IsAllowed, Is.True);
            Assert.That(room.Check(beforeBan).Rule, Is.EqualTo(AuthRule.SenderNotJoined), "current state: soft failure");
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Auth_events_without_the_senders_membership_fail_the_rules(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        var authEvents = new List<Pdu> { room.State.Find(EventTypes.PowerLevels, "")! };
        if (version.CreateEventInAuthEvents)
            authEvents.Add(room.Create);
        var message = room.BuildWith("m.room.message", Bob, Message, null, [room.Last], authEvents);
        Assert.That(room.CheckAgainstAuthEvents(message).Rule, Is.EqualTo(AuthRule.SenderNotJoined));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Two_auth_events_for_the_same_state_are_rejected(RoomVersion version)
    {
        var room = Standard(version);
        var firstJoin = room.Join(Bob);
        var secondJoin = room.Send(EventTypes.Member, Bob, new JsonObject { ["membership"] = Membership.Join, ["displayname"] = "Bob" }, Bob);
        var authEvents = AuthEventsSelection.Select("m.room.message", null, UserId.Parse(Bob), Message, version, room.State).Append(firstJoin).ToList();
        Assert.That(authEvents, Does.Contain(secondJoin));
        var message = room.BuildWith("m.room.message", Bob, Message, null, [room.Last], authEvents);
        Assert.That(room.CheckAgainstAuthEvents(message).Rule, Is.EqualTo(AuthRule.AuthEvents));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void An_auth_event_the_selection_would_not_pick_is_rejected(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        var topic = room.Send("m.room.topic", Alice, new JsonObject { ["topic"] = "t" }, "");
        var joinRules = room.State.Find(EventTypes.JoinRules, "")!;
        var messageAuth = AuthEventsSelection.Select("m.room.message", null, UserId.Parse(Bob), Message, version, room.State);
        var leaveAuth = AuthEventsSelection.Select(EventTypes.Member, Bob, UserId.Parse(Bob), MemberContent(Membership.Leave), version, room.State);
        var withTopic = room.BuildWith("m.room.message", Bob, Message, null, [room.Last], [.. messageAuth, topic]);
        var leaveWithJoinRules = room.BuildWith(EventTypes.Member, Bob, MemberContent(Membership.Leave), Bob, [room.Last], [.. leaveAuth, joinRules]);
        Assert.Multiple(() =>
        {
            Assert.That(room.CheckAgainstAuthEvents(withTopic).Rule, Is.EqualTo(AuthRule.AuthEvents));
            Assert.That(room.CheckAgainstAuthEvents(leaveWithJoinRules).Rule, Is.EqualTo(AuthRule.AuthEvents));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.ServerScopedRoomIds))]
    public void Before_version_12_auth_events_without_the_create_event_are_rejected(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        var authEvents = AuthEventsSelection.Select("m.room.message", null, UserId.Parse(Bob), Message, version, room.State).Where(e => e.Type != EventTypes.Create).ToList();
        var message = room.BuildWith("m.room.message", Bob, Message, null, [room.Last], authEvents);
        Assert.That(room.CheckAgainstAuthEvents(message).Rule, Is.EqualTo(AuthRule.AuthEvents));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.RoomIdIsCreateEventHash))]
    public void From_version_12_auth_events_that_list_the_create_event_are_rejected(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        var authEvents = AuthEventsSelection.Select("m.room.message", null, UserId.Parse(Bob), Message, version, room.State).Append(room.Create).ToList();
        var message = room.BuildWith("m.room.message", Bob, Message, null, [room.Last], authEvents);
        Assert.That(room.CheckAgainstAuthEvents(message).Rule, Is.EqualTo(AuthRule.AuthEvents));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.RoomIdIsCreateEventHash))]
    public void From_version_12_the_create_event_must_be_supplied_beside_the_auth_events(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        var message = room.Build("m.room.message", Bob, Message);
        var authEvents = message.AuthEvents.Select(id => FindById(room, id)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(EventAuth.CheckAgainstAuthEvents(message, authEvents, room.Create).IsAllowed, Is.True);
            Assert.That(EventAuth.CheckAgainstAuthEvents(message, authEvents).Rule, Is.EqualTo(AuthRule.RoomCreate));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void An_auth_event_of_another_room_is_rejected(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        var other = Created(version, editContent: content => content["m.test"] = "other room", roomId: "!other:a.example");
        var foreignJoin = other.Join(Alice);
        var authEvents = AuthEventsSelection.Select("m.room.message", null, UserId.Parse(Alice), Message, version, room.State)
            .Where(e => e.Type != EventTypes.Member).Append(foreignJoin).ToList();
        var message = room.BuildWith("m.room.message", Alice, Message, null, [room.Last], authEvents);
        var result = EventAuth.CheckAgainstAuthEvents(message, authEvents, room.Create);
        Assert.That(result.Rule, Is.EqualTo(AuthRule.AuthEvents));
        Assert.That(result.Reason, Does.Contain(other.RoomId.Value));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void An_auth_event_that_is_not_available_is_a_rejection_and_one_not_named_is_a_caller_bug(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        var message = room.Build("m.room.message", Bob, Message);
        var available = message.AuthEvents.Skip(1).Select(id => FindById(room, id)).ToList();
        Assert.That(EventAuth.CheckAgainstAuthEvents(message, available, room.Create).Rule, Is.EqualTo(AuthRule.AuthEvents));
        var topic = room.Send("m.room.topic", Alice, new JsonObject { ["topic"] = "t" }, "");
        Assert.Throws<ArgumentException>(() => AuthEventsCheck.Check(message, [.. available, topic]));
    }

    private static Pdu FindById(AuthTestRoom room, EventId id) =>
        new[] { room.Create, room.State.Find(EventTypes.PowerLevels, "")!, room.State.Find(EventTypes.Member, Bob)!, room.State.Find(EventTypes.JoinRules, "")! }
            .First(pdu => pdu.EventId == id);
}
