using System.Text.Json.Nodes;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Core.Auth;

/// <summary>The <c>join_rule</c> values of <c>m.room.join_rules</c>, and the rule in force in some state.</summary>
public static class JoinRules
{
    public const string Public = "public";
    public const string Invite = "invite";

    /// <summary>Room version 7 on.</summary>
    public const string Knock = "knock";

    /// <summary>Room version 8 on.</summary>
    public const string Restricted = "restricted";

    /// <summary>Room version 10 on.</summary>
    public const string KnockRestricted = "knock_restricted";

    /// <summary>Reserved by the spec without a meaning; the auth rules treat it like any unknown rule (no joins).</summary>
    public const string Private = "private";

    /// <summary>The <c>allow</c> condition type of restricted rooms: membership of another room.</summary>
    public const string RoomMembershipCondition = "m.room_membership";

    /// <summary>
    /// The join rule in <paramref name="state"/>. A room without <c>m.room.join_rules</c> (or with an
    /// unreadable one) is <see cref="Invite"/>, as the rooms of the major servers treat it.
    /// </summary>
    public static string Of(IStateLookup state) =>
        state.Find(EventTypes.JoinRules, "") is { } joinRules
            ? Membership.StringValue(joinRules.Content, "join_rule") ?? Invite
            : Invite;

    /// <summary>
    /// The rooms named by <c>m.room_membership</c> conditions in the <c>allow</c> list of a restricted
    /// join rule: membership of any one of them lets a user join. Malformed entries are skipped.
    /// </summary>
    public static IReadOnlyList<RoomId> AllowedRooms(JsonObject joinRulesContent)
    {
        if (joinRulesContent["allow"] is not JsonArray allow)
            return [];
        var rooms = new List<RoomId>();
        foreach (var condition in allow)
        {
            if (condition is JsonObject entry
                && Membership.StringValue(entry, "type") == RoomMembershipCondition
                && RoomId.TryParse(Membership.StringValue(entry, "room_id"), out var roomId))
            {
                rooms.Add(roomId);
            }
        }
        return rooms;
    }
}
