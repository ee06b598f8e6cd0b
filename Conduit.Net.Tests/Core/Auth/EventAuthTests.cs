using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;
using static Conduit.Net.Tests.Core.Auth.AuthTestRoom;

namespace Conduit.Net.Tests.Core.Auth;

/// <summary>
/// The rules every event passes: m.federate (rule 4), membership of the sender (6), the required power
/// level (8), state keys naming users (9); and the historical rules for m.room.aliases (versions 1-5)
/// and m.room.redaction (versions 1-2).
/// </summary>
public sealed class EventAuthTests
{
    private static JsonObject Message(string body = "hello") => new() { ["msgtype"] = "m.text", ["body"] = body };

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_member_can_send_a_message(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        Assert.That(room.Check("m.room.message", Bob, Message()).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_non_member_cannot_send_a_message(RoomVersion version)
    {
        var room = Standard(version);
        Assert.That(room.Check("m.room.message", Bob, Message()).Rule, Is.EqualTo(AuthRule.SenderNotJoined));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_user_who_left_or_is_only_invited_cannot_send_a_message(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.SetMembership(Bob, Bob, Membership.Leave);
        room.Invite(Alice, Carol);
        Assert.Multiple(() =>
        {
            Assert.That(room.Check("m.room.message", Bob, Message()).Rule, Is.EqualTo(AuthRule.SenderNotJoined));
            Assert.That(room.Check("m.room.message", Carol, Message()).Rule, Is.EqualTo(AuthRule.SenderNotJoined));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_message_needs_events_default(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.Join(Carol);
        room.SetPowerLevels(EditedLevels(room, pl => pl["events_default"] = 10, (Carol, 10)));
        Assert.Multiple(() =>
        {
            Assert.That(room.Check("m.room.message", Bob, Message()).Rule, Is.EqualTo(AuthRule.RequiredPowerLevel));
            Assert.That(room.Check("m.room.message", Carol, Message()).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_state_event_needs_state_default_unless_its_type_has_a_level(RoomVersion version)
    {
        var room = Standard(version, editPowerLevels: pl => pl["events"] = new JsonObject { ["m.room.topic"] = 0 });
        room.Join(Bob);
        Assert.Multiple(() =>
        {
            Assert.That(room.Check("m.room.name", Bob, new JsonObject { ["name"] = "Bob's" }, "").Rule, Is.EqualTo(AuthRule.RequiredPowerLevel));
            Assert.That(room.Check("m.room.topic", Bob, new JsonObject { ["topic"] = "Bob's" }, "").IsAllowed, Is.True);
            Assert.That(room.Check("m.room.name", Alice, new JsonObject { ["name"] = "Alice's" }, "").IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void An_event_type_level_applies_to_messages_too(RoomVersion version)
    {
        var room = Standard(version, editPowerLevels: pl => pl["events"] = new JsonObject { ["m.reaction"] = 20 });
        room.Join(Bob);
        Assert.Multiple(() =>
        {
            Assert.That(room.Check("m.reaction", Bob, new JsonObject()).Rule, Is.EqualTo(AuthRule.RequiredPowerLevel));
            Assert.That(room.Check("m.room.message", Bob, Message()).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.CreatorHas100WithoutPowerLevels))]
    public void Without_power_levels_the_creator_has_100_and_others_0(RoomVersion version)
    {
        var room = Created(version);
        room.Join(Alice);
        room.Send(EventTypes.JoinRules, Alice, new JsonObject { ["join_rule"] = JoinRules.Public }, "");
        room.Join(Bob);
        Assert.Multiple(() =>
        {
            Assert.That(room.Check("m.room.name", Alice, new JsonObject { ["name"] = "n" }, "").IsAllowed, Is.True);
            Assert.That(room.Check("m.room.name", Bob, new JsonObject { ["name"] = "n" }, "").Rule, Is.EqualTo(AuthRule.RequiredPowerLevel));
            Assert.That(room.Check("m.room.message", Bob, Message()).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_state_key_that_is_another_users_id_is_rejected(RoomVersion version)
    {
        var room = Standard(version, editPowerLevels: pl => pl["state_default"] = 0);
        room.Join(Bob);
        Assert.Multiple(() =>
        {
            Assert.That(room.Check("org.example.status", Bob, new JsonObject(), Alice).Rule, Is.EqualTo(AuthRule.StateKeyOwnership));
            Assert.That(room.Check("org.example.status", Bob, new JsonObject(), Bob).IsAllowed, Is.True);
            Assert.That(room.Check("org.example.status", Bob, new JsonObject(), "alice").IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_room_that_does_not_federate_rejects_users_of_other_servers(RoomVersion version)
    {
        var room = Created(version, editContent: content => content["m.federate"] = false);
        room.Join(Alice);
        room.Send(EventTypes.JoinRules, Alice, new JsonObject { ["join_rule"] = JoinRules.Public }, "");
        Assert.Multiple(() =>
        {
            Assert.That(room.Check(EventTypes.Member, Bob, MemberContent(Membership.Join), Bob).Rule, Is.EqualTo(AuthRule.Federation));
            Assert.That(room.Check(EventTypes.Member, Erin, MemberContent(Membership.Join), Erin).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void M_federate_true_lets_other_servers_in(RoomVersion version)
    {
        var room = Created(version, editContent: content => content["m.federate"] = true);
        room.Join(Alice);
        room.Send(EventTypes.JoinRules, Alice, new JsonObject { ["join_rule"] = JoinRules.Public }, "");
        Assert.That(room.Check(EventTypes.Member, Bob, MemberContent(Membership.Join), Bob).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.AliasesRule))]
    public void Before_version_6_a_server_may_set_only_its_own_aliases_and_needs_nothing_else(RoomVersion version)
    {
        var room = Standard(version);
        var aliases = new JsonObject { ["aliases"] = new JsonArray("#room:b.example") };
        Assert.Multiple(() =>
        {
            Assert.That(room.Check(EventTypes.Aliases, Bob, aliases, "b.example").IsAllowed, Is.True, "not joined, no power, own server");
            Assert.That(room.Check(EventTypes.Aliases, Bob, aliases, "a.example").Rule, Is.EqualTo(AuthRule.Aliases));
            Assert.That(room.Check(EventTypes.Aliases, Bob, aliases).Rule, Is.EqualTo(AuthRule.Aliases));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.NoAliasesRule))]
    public void From_version_6_aliases_are_an_ordinary_state_event(RoomVersion version)
    {
        var room = Standard(version);
        var aliases = new JsonObject { ["aliases"] = new JsonArray("#room:b.example") };
        Assert.That(room.Check(EventTypes.Aliases, Bob, aliases, "b.example").Rule, Is.EqualTo(AuthRule.SenderNotJoined));
        room.Join(Bob);
        Assert.Multiple(() =>
        {
            Assert.That(room.Check(EventTypes.Aliases, Bob, aliases, "b.example").Rule, Is.EqualTo(AuthRule.RequiredPowerLevel));
            Assert.That(room.Check(EventTypes.Aliases, Alice, aliases, "b.example").IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.RedactionsInAuthRules))]
    public void In_versions_1_and_2_a_redaction_needs_the_redact_level_or_an_event_of_its_own_server(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.Join(Carol);
        var alicesMessage = room.Send("m.room.message", Alice, Message());
        var bobsMessage = room.Send("m.room.message", Bob, Message());
        Assert.Multiple(() =>
        {
            Assert.That(room.Check(RedactionOf(room, Bob, alicesMessage)).Rule, Is.EqualTo(AuthRule.Redaction));
            Assert.That(room.Check(RedactionOf(room, Bob, bobsMessage)).IsAllowed, Is.True);
            Assert.That(room.Check(RedactionOf(room, Carol, bobsMessage)).Rule, Is.EqualTo(AuthRule.Redaction));
            Assert.That(room.Check(RedactionOf(room, Alice, bobsMessage)).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.RedactionsCheckedWhenApplied))]
    public void From_version_3_the_auth_rules_let_any_member_send_a_redaction(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        var alicesMessage = room.Send("m.room.message", Alice, Message());
        var redaction = RedactionOf(room, Bob, alicesMessage);
        Assert.That(room.Check(redaction).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.RedactionsCheckedWhenApplied))]
    public void A_redaction_still_needs_the_level_for_m_room_redaction(RoomVersion version)
    {
        var room = Standard(version, editPowerLevels: pl => pl["events"] = new JsonObject { [EventTypes.Redaction] = 50 });
        room.Join(Bob);
        var bobsMessage = room.Send("m.room.message", Bob, Message());
        Assert.That(room.Check(RedactionOf(room, Bob, bobsMessage)).Rule, Is.EqualTo(AuthRule.RequiredPowerLevel));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.RedactionsCheckedWhenApplied))]
    public void From_version_3_a_redaction_applies_with_the_redact_level_or_from_the_originals_server(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.Join(Carol);
        var alicesMessage = room.Send("m.room.message", Alice, Message());
        var bobsMessage = room.Send("m.room.message", Bob, Message());
        var levels = PowerLevels.Of(room.State, version);
        Assert.Multiple(() =>
        {
            Assert.That(RedactionAuth.MayApply(RedactionOf(room, Bob, alicesMessage), alicesMessage, levels), Is.False);
            Assert.That(RedactionAuth.MayApply(RedactionOf(room, Bob, bobsMessage), bobsMessage, levels), Is.True);
            Assert.That(RedactionAuth.MayApply(RedactionOf(room, Carol, bobsMessage), bobsMessage, levels), Is.False);
            Assert.That(RedactionAuth.MayApply(RedactionOf(room, Alice, bobsMessage), bobsMessage, levels), Is.True);
            Assert.That(RedactionAuth.MayApply(RedactionOf(room, Alice, bobsMessage), alicesMessage, levels), Is.False, "not the event it redacts");
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_client_may_redact_its_own_events_and_others_with_the_redact_level(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.Join(Erin);
        var alicesMessage = room.Send("m.room.message", Alice, Message());
        var bobsMessage = room.Send("m.room.message", Bob, Message());
        var levels = PowerLevels.Of(room.State, version);
        Assert.Multiple(() =>
        {
            Assert.That(RedactionAuth.MayRedactAsClient(Bob, bobsMessage, levels), Is.True);
            Assert.That(RedactionAuth.MayRedactAsClient(Bob, alicesMessage, levels), Is.False);
            Assert.That(RedactionAuth.MayRedactAsClient(Erin, alicesMessage, levels), Is.False, "the same server is not enough for a client");
            Assert.That(RedactionAuth.MayRedactAsClient(Alice, bobsMessage, levels), Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_rejection_turns_into_403_M_FORBIDDEN_with_its_reason(RoomVersion version)
    {
        var room = Standard(version);
        var result = room.Check("m.room.message", Bob, Message());
        var exception = Assert.Throws<Conduit.Net.Core.Errors.MatrixException>(result.EnsureAllowed)!;
        Assert.Multiple(() =>
        {
            Assert.That(exception.Code, Is.EqualTo(Conduit.Net.Core.Errors.ErrorCode.Forbidden));
            Assert.That(exception.Message, Does.Contain(Bob));
        });
        Assert.DoesNotThrow(AuthResult.Allowed.EnsureAllowed);
    }

    internal static JsonObject EditedLevels(AuthTestRoom room, Action<JsonObject> edit, params (string User, long Level)[] users)
    {
        var content = room.PowerLevelsContent(users);
        edit(content);
        return content;
    }

    private static Pdu RedactionOf(AuthTestRoom room, string sender, Pdu target)
    {
        var content = new JsonObject { ["reason"] = "spam" };
        if (room.Version.RedactsInContent)
            content["redacts"] = target.EventId.Value;
        return room.Build(EventTypes.Redaction, sender, content, edit: json =>
        {
            if (!room.Version.RedactsInContent)
                json["redacts"] = target.EventId.Value;
        });
    }
}
