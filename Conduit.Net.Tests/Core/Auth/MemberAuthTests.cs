using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;
using static Conduit.Net.Tests.Core.Auth.AuthTestRoom;

namespace Conduit.Net.Tests.Core.Auth;

/// <summary>Rule 5, <c>m.room.member</c>: join, invite, leave (and kick, unban), ban, knock.</summary>
public sealed class MemberAuthTests
{
    private static AuthResult Member(AuthTestRoom room, string sender, string target, string membership, Action<JsonObject>? editContent = null, Action<JsonObject>? edit = null)
    {
        var content = MemberContent(membership);
        editContent?.Invoke(content);
        return room.Check(EventTypes.Member, sender, content, target, edit);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_member_event_without_membership_is_rejected(RoomVersion version)
    {
        var room = Standard(version);
        Assert.That(room.Check(EventTypes.Member, Bob, new JsonObject { ["displayname"] = "Bob" }, Bob).Rule, Is.EqualTo(AuthRule.Membership));
        Assert.That(room.Check(EventTypes.Member, Bob, new JsonObject { ["membership"] = 1 }, Bob).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_member_event_without_state_key_is_rejected(RoomVersion version)
    {
        var room = Standard(version);
        Assert.That(room.Check(EventTypes.Member, Bob, MemberContent(Membership.Join)).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void An_unknown_membership_is_rejected(RoomVersion version)
    {
        var room = Standard(version);
        Assert.That(Member(room, Alice, Alice, "dance").Rule, Is.EqualTo(AuthRule.Membership));
    }

    // 5.3 join

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void The_creators_first_join_right_after_the_create_event_is_allowed(RoomVersion version)
    {
        var room = Created(version);
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Alice, Alice, Membership.Join).IsAllowed, Is.True);
            Assert.That(Member(room, Erin, Erin, Membership.Join).Rule, Is.EqualTo(AuthRule.Membership), "not the creator; no join rule means invite only");
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.CreatorInContent))]
    public void Before_version_11_the_creator_is_content_creator(RoomVersion version)
    {
        var room = Created(version, editContent: content => content["creator"] = Erin);
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Erin, Erin, Membership.Join).IsAllowed, Is.True);
            Assert.That(Member(room, Alice, Alice, Membership.Join).Rule, Is.EqualTo(AuthRule.Membership));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.CreatorIsSender))]
    public void From_version_11_the_creator_is_the_create_events_sender(RoomVersion version)
    {
        var room = Created(version, editContent: content => content["creator"] = Erin);
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Alice, Alice, Membership.Join).IsAllowed, Is.True);
            Assert.That(Member(room, Erin, Erin, Membership.Join).Rule, Is.EqualTo(AuthRule.Membership));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.CreatorsUnlimited))]
    public void An_additional_creator_has_no_first_join_of_their_own(RoomVersion version)
    {
        var room = Created(version, editContent: content => content["additional_creators"] = new JsonArray(Bob));
        Assert.That(Member(room, Bob, Bob, Membership.Join).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Anyone_may_join_a_public_room(RoomVersion version)
    {
        var room = Standard(version);
        Assert.That(Member(room, Bob, Bob, Membership.Join).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Nobody_can_join_for_someone_else(RoomVersion version)
    {
        var room = Standard(version);
        Assert.That(Member(room, Alice, Bob, Membership.Join).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Joining_a_banned_user_fails(RoomVersion version)
    {
        var room = Standard(version);
        room.SetMembership(Alice, Bob, Membership.Ban);
        Assert.That(Member(room, Bob, Bob, Membership.Join).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void An_invite_only_room_needs_an_invite(RoomVersion version)
    {
        var room = Standard(version, JoinRules.Invite);
        Assert.That(Member(room, Bob, Bob, Membership.Join).Rule, Is.EqualTo(AuthRule.Membership));
        room.Invite(Alice, Bob);
        Assert.That(Member(room, Bob, Bob, Membership.Join).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_joined_user_may_join_again_in_an_invite_only_room(RoomVersion version)
    {
        var room = Standard(version, JoinRules.Invite);
        room.Invite(Alice, Bob);
        room.Join(Bob);
        Assert.That(Member(room, Bob, Bob, Membership.Join, content => content["displayname"] = "Bob").IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_room_without_join_rules_is_invite_only(RoomVersion version)
    {
        var room = Created(version);
        room.Join(Alice);
        Assert.That(Member(room, Bob, Bob, Membership.Join).Rule, Is.EqualTo(AuthRule.Membership));
        room.Invite(Alice, Bob);
        Assert.That(Member(room, Bob, Bob, Membership.Join).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void The_private_join_rule_lets_nobody_join(RoomVersion version)
    {
        var room = Standard(version, JoinRules.Private);
        room.Invite(Alice, Bob);
        Assert.That(Member(room, Bob, Bob, Membership.Join).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.Knocking))]
    public void In_a_knock_room_an_invited_user_may_join(RoomVersion version)
    {
        var room = Standard(version, JoinRules.Knock);
        Assert.That(Member(room, Bob, Bob, Membership.Join).Rule, Is.EqualTo(AuthRule.Membership));
        room.Invite(Alice, Bob);
        Assert.That(Member(room, Bob, Bob, Membership.Join).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.NoKnocking))]
    public void Before_version_7_the_knock_join_rule_lets_nobody_join(RoomVersion version)
    {
        var room = Standard(version, JoinRules.Knock);
        room.Invite(Alice, Bob);
        Assert.That(Member(room, Bob, Bob, Membership.Join).Rule, Is.EqualTo(AuthRule.Membership));
    }

    // 5.3.5 restricted and knock_restricted

    private static AuthTestRoom RestrictedRoom(RoomVersion version, string joinRule = JoinRules.Restricted)
    {
        var room = Standard(version, JoinRules.Invite);
        room.Invite(Alice, Carol);
        room.Join(Carol);
        room.Invite(Alice, Dave);
        room.Join(Dave);
        room.SetPowerLevels(EventAuthTests.EditedLevels(room, pl => pl["invite"] = 10, (Carol, 10)));
        room.SetJoinRule(joinRule);
        return room;
    }

    private static Action<JsonObject> AuthorisedBy(string user) => content => content["join_authorised_via_users_server"] = user;

    private static Action<JsonObject> SignedBy(string server) => json => SignAs(json, server);

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.Restricted))]
    public void A_restricted_join_authorised_by_a_member_who_may_invite_is_allowed(RoomVersion version)
    {
        var room = RestrictedRoom(version);
        Assert.That(Member(room, Bob, Bob, Membership.Join, AuthorisedBy(Carol), SignedBy("c.example")).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.Restricted))]
    public void A_restricted_join_without_an_authorising_user_fails(RoomVersion version)
    {
        var room = RestrictedRoom(version);
        Assert.That(Member(room, Bob, Bob, Membership.Join).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.Restricted))]
    public void A_restricted_join_authorised_by_a_member_below_the_invite_level_fails(RoomVersion version)
    {
        var room = RestrictedRoom(version);
        Assert.That(Member(room, Bob, Bob, Membership.Join, AuthorisedBy(Dave), SignedBy("d.example")).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.Restricted))]
    public void A_restricted_join_authorised_by_a_non_member_fails(RoomVersion version)
    {
        var room = RestrictedRoom(version);
        room.SetMembership(Carol, Carol, Membership.Leave);
        Assert.That(Member(room, Bob, Bob, Membership.Join, AuthorisedBy(Carol), SignedBy("c.example")).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.Restricted))]
    public void A_join_naming_an_authorising_user_needs_the_signature_of_their_server(RoomVersion version)
    {
        var room = RestrictedRoom(version);
        var result = Member(room, Bob, Bob, Membership.Join, AuthorisedBy(Carol));
        Assert.That(result.Rule, Is.EqualTo(AuthRule.Membership));
        Assert.That(result.Reason, Does.Contain("c.example"));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.Restricted))]
    public void The_signature_check_for_the_authorising_server_is_pluggable(RoomVersion version)
    {
        var room = RestrictedRoom(version);
        var join = room.Build(EventTypes.Member, Bob, new JsonObject { ["membership"] = "join", ["join_authorised_via_users_server"] = Carol }, Bob, SignedBy("c.example"));
        var asked = new List<string>();
        var result = EventAuth.Check(join, room.State, (pdu, server) =>
        {
            asked.Add(server.Value);
            return false;
        });
        Assert.That(result.Rule, Is.EqualTo(AuthRule.Membership));
        Assert.That(asked, Is.EqualTo((string[])["c.example"]));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.Restricted))]
    public void An_invited_user_joins_a_restricted_room_without_authorisation(RoomVersion version)
    {
        var room = RestrictedRoom(version);
        room.Invite(Alice, Bob);
        Assert.That(Member(room, Bob, Bob, Membership.Join).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.NoRestricted))]
    public void Before_version_8_the_restricted_join_rule_lets_nobody_join(RoomVersion version)
    {
        var room = RestrictedRoom(version);
        Assert.That(Member(room, Bob, Bob, Membership.Join, AuthorisedBy(Carol), SignedBy("c.example")).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.KnockRestricted))]
    public void A_knock_restricted_room_takes_authorised_joins_and_knocks(RoomVersion version)
    {
        var room = RestrictedRoom(version, JoinRules.KnockRestricted);
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Bob, Bob, Membership.Join, AuthorisedBy(Carol), SignedBy("c.example")).IsAllowed, Is.True);
            Assert.That(Member(room, Bob, Bob, Membership.Join).Rule, Is.EqualTo(AuthRule.Membership));
            Assert.That(Member(room, Bob, Bob, Membership.Knock).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.RestrictedWithoutKnockRestricted))]
    public void Before_version_10_knock_restricted_lets_nobody_join_or_knock(RoomVersion version)
    {
        var room = RestrictedRoom(version, JoinRules.KnockRestricted);
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Bob, Bob, Membership.Join, AuthorisedBy(Carol), SignedBy("c.example")).Rule, Is.EqualTo(AuthRule.Membership));
            Assert.That(Member(room, Bob, Bob, Membership.Knock).Rule, Is.EqualTo(AuthRule.Membership));
        });
    }

    // 5.4 invite

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_member_at_the_invite_level_may_invite(RoomVersion version)
    {
        var room = Standard(version, JoinRules.Invite);
        Assert.That(Member(room, Alice, Bob, Membership.Invite).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_non_member_cannot_invite(RoomVersion version)
    {
        var room = Standard(version);
        Assert.That(Member(room, Bob, Carol, Membership.Invite).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_member_below_the_invite_level_cannot_invite(RoomVersion version)
    {
        var room = Standard(version, editPowerLevels: pl => pl["invite"] = 50);
        room.Join(Bob);
        Assert.That(Member(room, Bob, Carol, Membership.Invite).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void The_invite_level_defaults_to_0(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        Assert.That(Member(room, Bob, Carol, Membership.Invite).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Joined_and_banned_users_cannot_be_invited(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.SetMembership(Alice, Carol, Membership.Ban);
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Alice, Bob, Membership.Invite).Rule, Is.EqualTo(AuthRule.Membership));
            Assert.That(Member(room, Alice, Carol, Membership.Invite).Rule, Is.EqualTo(AuthRule.Membership));
        });
    }

    // 5.5 leave

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Members_may_leave_and_invitees_may_reject(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.Invite(Alice, Carol);
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Bob, Bob, Membership.Leave).IsAllowed, Is.True);
            Assert.That(Member(room, Carol, Carol, Membership.Leave).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_user_who_is_not_in_the_room_cannot_leave_it(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.SetMembership(Alice, Carol, Membership.Ban);
        room.SetMembership(Bob, Bob, Membership.Leave);
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Bob, Bob, Membership.Leave).Rule, Is.EqualTo(AuthRule.Membership), "already left");
            Assert.That(Member(room, Carol, Carol, Membership.Leave).Rule, Is.EqualTo(AuthRule.Membership), "a banned user cannot unban themselves");
            Assert.That(Member(room, Dave, Dave, Membership.Leave).Rule, Is.EqualTo(AuthRule.Membership), "never there");
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.Knocking))]
    public void A_knocking_user_may_retract_the_knock(RoomVersion version)
    {
        var room = Standard(version, JoinRules.Knock);
        room.SetMembership(Bob, Bob, Membership.Knock);
        Assert.That(Member(room, Bob, Bob, Membership.Leave).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_moderator_may_kick_a_lower_user(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.Join(Carol);
        room.SetPowerLevels((Bob, 50));
        Assert.That(Member(room, Bob, Carol, Membership.Leave).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_user_cannot_kick_a_user_of_equal_or_higher_power(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.Join(Carol);
        room.SetPowerLevels((Bob, 50), (Carol, 50));
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Bob, Carol, Membership.Leave).Rule, Is.EqualTo(AuthRule.Membership));
            Assert.That(Member(room, Bob, Alice, Membership.Leave).Rule, Is.EqualTo(AuthRule.Membership));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Kicking_needs_the_kick_level(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.Join(Carol);
        room.SetPowerLevels(EventAuthTests.EditedLevels(room, pl => pl["kick"] = 60, (Bob, 50)));
        Assert.That(Member(room, Bob, Carol, Membership.Leave).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_non_member_cannot_kick(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Carol);
        room.SetPowerLevels((Bob, 50));
        Assert.That(Member(room, Bob, Carol, Membership.Leave).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void Unbanning_needs_both_the_kick_and_the_ban_level(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.SetPowerLevels(EventAuthTests.EditedLevels(room, pl => pl["ban"] = 60, (Bob, 50)));
        room.SetMembership(Alice, Carol, Membership.Ban);
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Bob, Carol, Membership.Leave).Rule, Is.EqualTo(AuthRule.Membership));
            Assert.That(Member(room, Alice, Carol, Membership.Leave).IsAllowed, Is.True);
        });
    }

    // 5.6 ban

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_user_at_the_ban_level_may_ban_a_lower_user_even_if_absent(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Alice, Bob, Membership.Ban).IsAllowed, Is.True);
            Assert.That(Member(room, Alice, Carol, Membership.Ban).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_user_cannot_ban_a_higher_or_equal_user_or_without_the_ban_level(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.Join(Carol);
        room.Join(Dave);
        room.SetPowerLevels((Bob, 50), (Carol, 50), (Dave, 40));
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Bob, Carol, Membership.Ban).Rule, Is.EqualTo(AuthRule.Membership));
            Assert.That(Member(room, Bob, Alice, Membership.Ban).Rule, Is.EqualTo(AuthRule.Membership));
            Assert.That(Member(room, Dave, Erin, Membership.Ban).Rule, Is.EqualTo(AuthRule.Membership));
            Assert.That(Member(room, Bob, Dave, Membership.Ban).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_non_member_cannot_ban(RoomVersion version)
    {
        var room = Standard(version);
        room.SetPowerLevels((Bob, 50));
        Assert.That(Member(room, Bob, Carol, Membership.Ban).Rule, Is.EqualTo(AuthRule.Membership));
    }

    // 5.7 knock

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.Knocking))]
    public void Anyone_not_in_the_room_may_knock_on_a_knock_room(RoomVersion version)
    {
        var room = Standard(version, JoinRules.Knock);
        room.Join(Alice);
        Assert.That(Member(room, Bob, Bob, Membership.Knock).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.Knocking))]
    public void Knocking_needs_a_knock_join_rule(RoomVersion version)
    {
        Assert.Multiple(() =>
        {
            Assert.That(Member(Standard(version, JoinRules.Public), Bob, Bob, Membership.Knock).Rule, Is.EqualTo(AuthRule.Membership));
            Assert.That(Member(Standard(version, JoinRules.Invite), Bob, Bob, Membership.Knock).Rule, Is.EqualTo(AuthRule.Membership));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.Knocking))]
    public void Nobody_can_knock_for_someone_else(RoomVersion version)
    {
        var room = Standard(version, JoinRules.Knock);
        Assert.That(Member(room, Alice, Bob, Membership.Knock).Rule, Is.EqualTo(AuthRule.Membership));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.Knocking))]
    public void Banned_invited_and_joined_users_cannot_knock(RoomVersion version)
    {
        var room = Standard(version, JoinRules.Knock);
        room.SetMembership(Alice, Bob, Membership.Ban);
        room.Invite(Alice, Carol);
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Bob, Bob, Membership.Knock).Rule, Is.EqualTo(AuthRule.Membership));
            Assert.That(Member(room, Carol, Carol, Membership.Knock).Rule, Is.EqualTo(AuthRule.Membership));
            Assert.That(Member(room, Alice, Alice, Membership.Knock).Rule, Is.EqualTo(AuthRule.Membership));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.NoKnocking))]
    public void Knock_is_rejected_before_version_7(RoomVersion version)
    {
        var room = Standard(version, JoinRules.Knock);
        Assert.That(Member(room, Bob, Bob, Membership.Knock).Rule, Is.EqualTo(AuthRule.Membership));
    }

    // Unlimited creators (version 12)

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.CreatorsUnlimited))]
    public void Creators_cannot_be_kicked_or_banned_by_any_power_level(RoomVersion version)
    {
        var room = Standard(version);
        room.Join(Bob);
        room.SetPowerLevels((Bob, CanonicalMax));
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Bob, Alice, Membership.Ban).Rule, Is.EqualTo(AuthRule.Membership));
            Assert.That(Member(room, Bob, Alice, Membership.Leave).Rule, Is.EqualTo(AuthRule.Membership));
            Assert.That(Member(room, Alice, Bob, Membership.Ban).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.CreatorsUnlimited))]
    public void An_additional_creator_has_unlimited_power_too(RoomVersion version)
    {
        var room = Created(version, editContent: content => content["additional_creators"] = new JsonArray(Bob));
        room.Join(Alice);
        room.Send(EventTypes.PowerLevels, Alice, new JsonObject { ["users"] = new JsonObject { [Carol] = CanonicalMax } }, "");
        room.SetJoinRule(JoinRules.Public);
        room.Join(Bob);
        room.Join(Carol);
        Assert.Multiple(() =>
        {
            Assert.That(Member(room, Bob, Carol, Membership.Ban).IsAllowed, Is.True);
            Assert.That(Member(room, Carol, Bob, Membership.Ban).Rule, Is.EqualTo(AuthRule.Membership));
            Assert.That(Member(room, Bob, Alice, Membership.Ban).Rule, Is.EqualTo(AuthRule.Membership), "creators are equals");
        });
    }

    private const long CanonicalMax = Conduit.Net.Core.Json.CanonicalJson.MaxInteger;
}
