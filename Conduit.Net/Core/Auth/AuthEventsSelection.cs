using System.Text.Json.Nodes;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Core.Auth;

/// <summary>
/// Which state an event's <c>auth_events</c> hold (server-server API, "Auth events selection"): the
/// create event (not from room version 12 on, where the room id names it), the power levels, the
/// sender's membership, and for <c>m.room.member</c> the target's membership, the join rules (for
/// join, invite and knock), the third-party invite an invite redeems, and the membership of the user
/// who authorised a restricted join (version 8 on).
/// </summary>
public static class AuthEventsSelection
{
    /// <summary>The <c>(type, state_key)</c> pairs the auth events of such an event may hold, in the spec's order.</summary>
    public static IReadOnlyList<(string Type, string StateKey)> Keys(
        string type, string? stateKey, UserId sender, JsonObject content, RoomVersion version)
    {
        if (type == EventTypes.Create && stateKey == "")
            return [];

        var keys = new List<(string Type, string StateKey)>();
        void Add(string keyType, string keyStateKey)
        {
            if (!keys.Contains((keyType, keyStateKey)))
                keys.Add((keyType, keyStateKey));
        }

        if (version.CreateEventInAuthEvents)
            Add(EventTypes.Create, "");
        Add(EventTypes.PowerLevels, "");
        Add(EventTypes.Member, sender.Value);

        if (type == EventTypes.Member && stateKey is not null)
        {
            Add(EventTypes.Member, stateKey);
            var membership = Membership.Read(content);
            if (membership is Membership.Join or Membership.Invite or Membership.Knock)
                Add(EventTypes.JoinRules, "");
            if (membership == Membership.Invite && ThirdPartyInviteToken(content) is { } token)
                Add(EventTypes.ThirdPartyInvite, token);
            if (membership == Membership.Join && version.RestrictedJoins && Membership.StringValue(content, "join_authorised_via_users_server") is { } authoriser)
                Add(EventTypes.Member, authoriser);
        }
        return keys;
    }

    /// <summary>The auth events of <paramref name="pdu"/> as the selection would make them, whatever it lists.</summary>
    public static IReadOnlyList<(string Type, string StateKey)> Keys(Pdu pdu) =>
        Keys(pdu.Type, pdu.StateKey, pdu.Sender, pdu.Content, pdu.Version);

    /// <summary>
    /// The auth events for a new event, taken from <paramref name="state"/> (the state it is built on):
    /// the events at <see cref="Keys(string, string?, UserId, JsonObject, RoomVersion)"/> that exist.
    /// </summary>
    public static IReadOnlyList<Pdu> Select(
        string type, string? stateKey, UserId sender, JsonObject content, RoomVersion version, IStateLookup state)
    {
        var selected = new List<Pdu>();
        foreach (var (keyType, keyStateKey) in Keys(type, stateKey, sender, content, version))
        {
            if (state.Find(keyType, keyStateKey) is { } pdu)
                selected.Add(pdu);
        }
        return selected;
    }

    /// <summary><c>content.third_party_invite.signed.token</c>, when it is a string.</summary>
    internal static string? ThirdPartyInviteToken(JsonObject content) =>
        content["third_party_invite"] is JsonObject invite && invite["signed"] is JsonObject signed
            ? Membership.StringValue(signed, "token")
            : null;
}
