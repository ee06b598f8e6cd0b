using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Core.Auth;

/// <summary>
/// Rule 5 (4 in versions 6 to 11, 5 in 1 to 5): <c>m.room.member</c>. "Current membership" is the
/// membership in the state the event is checked against; a user without one counts as having left.
/// </summary>
public static class MemberAuth
{
    public static AuthResult Check(Pdu pdu, IStateLookup state, Pdu create, PowerLevels levels, ServerSignatureCheck signedBy)
    {
        var version = pdu.Version;

        // 5.1 If there is no state_key property, or no membership property in content, reject.
        if (pdu.StateKey is not { } target)
            return Reject("An m.room.member event needs a state_key naming the target user.");
        if (Membership.Read(pdu.Content) is not { } membership)
            return Reject("An m.room.member event needs a membership in its content.");

        // 5.2 (version 8 on) join_authorised_via_users_server: the event must be signed by that user's server.
        if (version.RestrictedJoins
            && pdu.Content.TryGetPropertyValue("join_authorised_via_users_server", out var authorisedVia) && authorisedVia is not null)
        {
            if (!(authorisedVia is JsonValue value && value.GetValueKind() == JsonValueKind.String && UserId.TryParse(value.GetValue<string>(), out var authoriser)))
                return Reject("join_authorised_via_users_server is not a user id.");
            if (!signedBy(pdu, authoriser.Server))
                return Reject($"The event is not signed by {authoriser.Server}, the server of the authorising user {authoriser}.");
        }

        var context = new MemberContext(pdu, target, state, create, levels);
        return membership switch
        {
            Membership.Join => CheckJoin(context),
            Membership.Invite => CheckInvite(context),
            Membership.Leave => CheckLeave(context),
            Membership.Ban => CheckBan(context),
            Membership.Knock when version.Knocking => CheckKnock(context),

            // 5.8 Otherwise, the membership is unknown. Reject.
            _ => Reject($"The membership \"{membership}\" is not one room version {version} knows."),
        };
    }

    /// <summary>5.3 membership is join.</summary>
    private static AuthResult CheckJoin(MemberContext c)
    {
        var version = c.Pdu.Version;

        // 5.3.1 If the only previous event is the m.room.create and the state_key is the creator, allow.
        if (c.Pdu.PrevEvents.Count == 1 && c.Pdu.PrevEvents[0].Value == c.Create.EventId.Value && c.Target == RoomCreators.Original(c.Create))
            return AuthResult.Allowed;

        // 5.3.2 If the sender does not match state_key, reject.
        if (c.Sender != c.Target)
            return Reject($"{c.Sender} cannot join the room on behalf of {c.Target}.");

        // 5.3.3 If the sender is banned, reject.
        if (c.SenderMembership == Membership.Ban)
            return Reject($"{c.Sender} is banned from the room.");

        var joinRule = JoinRules.Of(c.State);

        // 5.3.4 invite (or knock, version 7 on): allow if the membership is invite or join.
        if (joinRule == JoinRules.Invite || (version.Knocking && joinRule == JoinRules.Knock))
        {
            return c.SenderMembership is Membership.Invite or Membership.Join
                ? AuthResult.Allowed
                : Reject($"The room is {joinRule}-only and {c.Sender} is not invited.");
        }

        // 5.3.5 restricted (version 8 on) or knock_restricted (version 10 on).
        if ((version.RestrictedJoins && joinRule == JoinRules.Restricted) || (version.KnockRestrictedJoins && joinRule == JoinRules.KnockRestricted))
        {
            // 5.3.5.1 If membership state is join or invite, allow.
            if (c.SenderMembership is Membership.Invite or Membership.Join)
                return AuthResult.Allowed;

            // 5.3.5.2 The authorising user must be joined and able to invite others.
            if (Membership.StringValue(c.Pdu.Content, "join_authorised_via_users_server") is not { } authoriser)
                return Reject($"The room is restricted and {c.Sender} is neither invited nor authorised by a member (join_authorised_via_users_server).");
            if (Membership.Of(c.State, authoriser) != Membership.Join)
                return Reject($"The authorising user {authoriser} is not joined to the room.");
            var authoriserLevel = c.Levels.UserLevel(authoriser);
            if (authoriserLevel < c.Levels.Invite)
                return Reject($"The authorising user {authoriser} has power level {authoriserLevel}, below the invite level {c.Levels.Invite}.");

            // 5.3.5.3 Otherwise, allow.
            return AuthResult.Allowed;
        }

        // 5.3.6 If the join_rule is public, allow. 5.3.7 Otherwise, reject.
        return joinRule == JoinRules.Public
            ? AuthResult.Allowed
            : Reject($"The join rule \"{joinRule}\" lets nobody join in room version {version}.");
    }

    /// <summary>5.4 membership is invite.</summary>
    private static AuthResult CheckInvite(MemberContext c)
    {
        // 5.4.1 An invite redeeming a third-party invite has rules of its own.
        if (c.Pdu.Content.TryGetPropertyValue("third_party_invite", out var thirdPartyInvite) && thirdPartyInvite is not null)
            return ThirdPartyInviteAuth.CheckInvite(c.Pdu, c.Target, c.State, c.TargetMembership);

        // 5.4.2 If the sender's current membership state is not join, reject.
        if (c.SenderMembership != Membership.Join)
            return Reject($"{c.Sender} is not joined to the room, so cannot invite.");

        // 5.4.3 If the target user's current membership state is join or ban, reject.
        if (c.TargetMembership is Membership.Join or Membership.Ban)
            return Reject($"{c.Target} cannot be invited: their membership is {c.TargetMembership}.");

        // 5.4.4 If the sender's power level is at least the invite level, allow. 5.4.5 Otherwise, reject.
        return c.SenderLevel >= c.Levels.Invite
            ? AuthResult.Allowed
            : Reject($"Inviting needs power level {c.Levels.Invite}; {c.Sender} has {EventAuth.Describe(c.SenderLevel)}.");
    }

    /// <summary>5.5 membership is leave: leaving, rejecting an invite, retracting a knock, kicking, unbanning.</summary>
    private static AuthResult CheckLeave(MemberContext c)
    {
        // 5.5.1 Leaving oneself: allowed iff invited, joined, or (version 7 on) knocking.
        if (c.Sender == c.Target)
        {
            return c.SenderMembership is Membership.Invite or Membership.Join || (c.Pdu.Version.Knocking && c.SenderMembership == Membership.Knock)
                ? AuthResult.Allowed
                : Reject($"{c.Sender} cannot leave: their membership is {c.SenderMembership}.");
        }

        // 5.5.2 If the sender's current membership state is not join, reject.
        if (c.SenderMembership != Membership.Join)
            return Reject($"{c.Sender} is not joined to the room, so cannot kick or unban.");

        // 5.5.3 Unbanning needs the ban level.
        if (c.TargetMembership == Membership.Ban && c.SenderLevel < c.Levels.Ban)
            return Reject($"Unbanning needs power level {c.Levels.Ban}; {c.Sender} has {EventAuth.Describe(c.SenderLevel)}.");

        // 5.5.4 Kicking needs the kick level and a target below the sender. 5.5.5 Otherwise, reject.
        return CheckLevelOverTarget(c, c.Levels.Kick, "kick");
    }

    /// <summary>5.6 membership is ban.</summary>
    private static AuthResult CheckBan(MemberContext c)
    {
        // 5.6.1 If the sender's current membership state is not join, reject.
        if (c.SenderMembership != Membership.Join)
            return Reject($"{c.Sender} is not joined to the room, so cannot ban.");

        // 5.6.2 The ban level, and a target below the sender. 5.6.3 Otherwise, reject.
        return CheckLevelOverTarget(c, c.Levels.Ban, "ban");
    }

    /// <summary>Kicks and bans alike: the sender needs the action's level and a target below their own.</summary>
    private static AuthResult CheckLevelOverTarget(MemberContext c, long required, string action)
    {
        if (c.SenderLevel < required)
            return Reject($"A {action} needs power level {required}; {c.Sender} has {EventAuth.Describe(c.SenderLevel)}.");
        return c.TargetLevel < c.SenderLevel
            ? AuthResult.Allowed
            : Reject($"{c.Sender} cannot {action} {c.Target}, whose power level is not below theirs.");
    }

    /// <summary>5.7 (version 7 on) membership is knock.</summary>
    private static AuthResult CheckKnock(MemberContext c)
    {
        // 5.7.1 The join rule must be knock (or knock_restricted, version 10 on).
        var joinRule = JoinRules.Of(c.State);
        if (!(joinRule == JoinRules.Knock || (c.Pdu.Version.KnockRestrictedJoins && joinRule == JoinRules.KnockRestricted)))
            return Reject($"The room's join rule \"{joinRule}\" does not allow knocking.");

        // 5.7.2 If sender does not match state_key, reject.
        if (c.Sender != c.Target)
            return Reject($"{c.Sender} cannot knock on behalf of {c.Target}.");

        // 5.7.3 Allow unless banned, invited or joined. 5.7.4 Otherwise, reject.
        return c.SenderMembership is Membership.Ban or Membership.Invite or Membership.Join
            ? Reject($"{c.Sender} cannot knock: their membership is {c.SenderMembership}.")
            : AuthResult.Allowed;
    }

    private static AuthResult Reject(string reason) => AuthResult.Reject(AuthRule.Membership, reason);

    private sealed class MemberContext(Pdu pdu, string target, IStateLookup state, Pdu create, PowerLevels levels)
    {
        public Pdu Pdu { get; } = pdu;

        public string Target { get; } = target;

        public IStateLookup State { get; } = state;

        public Pdu Create { get; } = create;

        public PowerLevels Levels { get; } = levels;

        public string Sender => Pdu.Sender.Value;

        public string SenderMembership => Membership.Of(State, Sender);

        public string TargetMembership => Membership.Of(State, Target);

        public long SenderLevel => Levels.UserLevel(Sender);

        public long TargetLevel => Levels.UserLevel(Target);
    }
}
