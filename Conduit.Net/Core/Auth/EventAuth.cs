using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Core.Auth;

/// <summary>Whether <paramref name="pdu"/> carries a valid signature of <paramref name="server"/>.</summary>
public delegate bool ServerSignatureCheck(Pdu pdu, ServerName server);

/// <summary>
/// The authorization rules of every room version (the room versions' "Authorization rules"), as one
/// pure function of an event and a room state. The rules are numbered as in room version 12; the
/// per-version differences come from <see cref="Pdu.Version"/>. One file per event family holds the
/// details: <see cref="CreateAuth"/>, <see cref="AuthEventsCheck"/>, <see cref="MemberAuth"/>,
/// <see cref="ThirdPartyInviteAuth"/>, <see cref="PowerLevelsAuth"/>, <see cref="AliasesAuth"/>,
/// <see cref="RedactionAuth"/>.
/// </summary>
/// <remarks>
/// Outside these rules, and the caller's: the event format (<see cref="Pdu.Parse(JsonObject, RoomVersions.RoomVersion)"/>),
/// the sender's signature and the hashes ("Events must be signed by the server denoted by the
/// sender"), and whether an auth event was itself rejected (rule 3.3), which only the pipeline that
/// stored it knows.
/// </remarks>
public static class EventAuth
{
    /// <summary>
    /// The default <see cref="ServerSignatureCheck"/>: the event has a signature entry from the server.
    /// It does not verify the signature; that needs the server's keys, which the federation pipeline
    /// fetches in its signature step (and passes its own check here). Events built locally or already
    /// accepted have passed that step, so presence is what is left to check for them.
    /// </summary>
    public static readonly ServerSignatureCheck SignaturePresent = static (pdu, server) =>
        pdu.Json["signatures"] is JsonObject signatures && signatures[server.Value] is JsonObject keys && keys.Count > 0;

    /// <summary>
    /// Whether <paramref name="pdu"/> is allowed in <paramref name="state"/>: its auth events (step 4 of
    /// "Checks performed on receipt of a PDU", through <see cref="CheckAgainstAuthEvents"/>), the state
    /// before it (step 5), the current state (step 6, soft failure), a local event about to be sent, or
    /// a step of state resolution.
    /// </summary>
    /// <remarks>
    /// The state must hold the room's <c>m.room.create</c>. From room version 12 no event lists it in
    /// its auth events (the room id names it), so a state made of auth events, or the empty start of
    /// state resolution v2.1, must be given it by the caller.
    /// </remarks>
    /// <param name="signedBy">
    /// Checks the signature that rule 5.2 asks of the server authorising a restricted join; defaults
    /// to <see cref="SignaturePresent"/>.
    /// </param>
    public static AuthResult Check(Pdu pdu, IStateLookup state, ServerSignatureCheck? signedBy = null)
    {
        var version = pdu.Version;

        // 1. If type is m.room.create: the create rules alone decide.
        if (pdu.Type == EventTypes.Create)
            return CreateAuth.Check(pdu);

        // 2 (version 12). The room id must name an accepted create event. Before version 12 (rule 2.4),
        // the create event must be among the auth events; either way the state must hold this room's.
        var create = state.Find(EventTypes.Create, "");
        if (create is null)
            return AuthResult.Reject(AuthRule.RoomCreate, "The room's m.room.create event is not in the state the event is checked against.");
        if (create.RoomId.Value != pdu.RoomId.Value)
            return AuthResult.Reject(AuthRule.RoomCreate, $"The m.room.create event {create.EventId} is not the one of room {pdu.RoomId}.");

        // 4. m.federate false keeps the room to the creator's server.
        if (create.Content["m.federate"] is JsonValue federate && federate.GetValueKind() == JsonValueKind.False
            && pdu.Sender.Server.Value != create.Sender.Server.Value)
        {
            return AuthResult.Reject(AuthRule.Federation, $"The room does not federate, and {pdu.Sender} is not on the server of its creator.");
        }

        // Versions 1 to 5, rule 4: m.room.aliases is decided by the sender's domain alone.
        if (version.AliasesInAuthRules && pdu.Type == EventTypes.Aliases)
            return AliasesAuth.Check(pdu);

        var levels = PowerLevels.From(create, state.Find(EventTypes.PowerLevels, ""), version);

        // 5. m.room.member has its own rules.
        if (pdu.Type == EventTypes.Member)
            return MemberAuth.Check(pdu, state, create, levels, signedBy ?? SignaturePresent);

        // 6. If the sender's current membership state is not join, reject.
        if (Membership.Of(state, pdu.Sender.Value) != Membership.Join)
            return AuthResult.Reject(AuthRule.SenderNotJoined, $"{pdu.Sender} is not joined to the room.");

        // 7. m.room.third_party_invite: allowed iff the sender may invite.
        if (pdu.Type == EventTypes.ThirdPartyInvite)
            return ThirdPartyInviteAuth.CheckThirdPartyInviteEvent(pdu, levels);

        // 8. The event type's required power level.
        var required = levels.RequiredLevel(pdu.Type, pdu.IsState);
        var senderLevel = levels.UserLevel(pdu.Sender.Value);
        if (required > senderLevel)
        {
            return AuthResult.Reject(AuthRule.RequiredPowerLevel,
                $"Sending {pdu.Type} needs power level {required}; {pdu.Sender} has {Describe(senderLevel)}.");
        }

        // 9. A state key that starts with @ belongs to that user.
        if (pdu.StateKey is { } stateKey && stateKey.StartsWith(UserId.Sigil) && stateKey != pdu.Sender.Value)
            return AuthResult.Reject(AuthRule.StateKeyOwnership, $"The state key {stateKey} is another user's id; only that user may set it.");

        // 10. m.room.power_levels: the content, and what the sender may change.
        if (pdu.Type == EventTypes.PowerLevels)
            return PowerLevelsAuth.Check(pdu, state, create, levels);

        // Versions 1 and 2, rule 11: redactions need the redact level or an event of the same server.
        if (version.RedactionsInAuthRules && pdu.Type == EventTypes.Redaction)
            return RedactionAuth.CheckInAuthRules(pdu, levels);

        // 11. Otherwise, allow.
        return AuthResult.Allowed;
    }

    /// <summary>
    /// Step 4 of "Checks performed on receipt of a PDU": rule 3 on the event's auth events, then the
    /// rules against the state they make up.
    /// </summary>
    /// <param name="authEvents">The events <see cref="Pdu.AuthEvents"/> names, as stored (the pipeline has
    /// already rejected the event if one of them was rejected).</param>
    /// <param name="roomCreate">
    /// From room version 12, the create event the room id names: it is not among the auth events but
    /// the rules need it. Ignored before version 12.
    /// </param>
    public static AuthResult CheckAgainstAuthEvents(
        Pdu pdu, IReadOnlyList<Pdu> authEvents, Pdu? roomCreate = null, ServerSignatureCheck? signedBy = null)
    {
        if (pdu.Type == EventTypes.Create)
            return CreateAuth.Check(pdu);

        var authEventsResult = AuthEventsCheck.Check(pdu, authEvents);
        if (!authEventsResult.IsAllowed)
            return authEventsResult;

        var state = StateLookup.Of(authEvents);
        if (!pdu.Version.CreateEventInAuthEvents && roomCreate is not null)
            state.Set(roomCreate);
        return Check(pdu, state, signedBy);
    }

    internal static string Describe(long level) => level == PowerLevels.Unlimited ? "the unlimited power of a room creator" : level.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
