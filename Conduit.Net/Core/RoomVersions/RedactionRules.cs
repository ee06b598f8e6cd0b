using System.Collections.Frozen;
using Conduit.Net.Core.Events;

namespace Conduit.Net.Core.RoomVersions;

/// <summary>
/// One variant of the redaction algorithm, as data: the top-level keys that survive, and for each event
/// type the <c>content</c> keys that survive. The five variants are the spec's own lists, word for word
/// (room versions 1, 6, 8, 9 and 11 each changed them); <see cref="Events.Redaction"/> applies them.
/// </summary>
public sealed class RedactionRules
{
    private static readonly string[] OriginalTopLevel =
    [
        "event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures", "depth",
        "prev_events", "prev_state", "auth_events", "origin", "origin_server_ts", "membership",
    ];

    private static readonly string[] PowerLevelKeys =
        ["ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"];

    /// <summary>Room versions 1 to 5: <c>m.room.aliases</c> keeps <c>aliases</c>.</summary>
    public static readonly RedactionRules V1 = new(
        "v1",
        OriginalTopLevel,
        new Dictionary<string, string[]>
        {
            [EventTypes.Member] = ["membership"],
            [EventTypes.Create] = ["creator"],
            [EventTypes.JoinRules] = ["join_rule"],
            [EventTypes.PowerLevels] = PowerLevelKeys,
            [EventTypes.Aliases] = ["aliases"],
            [EventTypes.HistoryVisibility] = ["history_visibility"],
        },
        keepsAllCreateContent: false,
        keepsThirdPartyInviteSigned: false);

    /// <summary>Room versions 6 and 7: "all significant meaning for <c>m.room.aliases</c> has been removed".</summary>
    public static readonly RedactionRules V6 = new(
        "v6",
        OriginalTopLevel,
        new Dictionary<string, string[]>
        {
            [EventTypes.Member] = ["membership"],
            [EventTypes.Create] = ["creator"],
            [EventTypes.JoinRules] = ["join_rule"],
            [EventTypes.PowerLevels] = PowerLevelKeys,
            [EventTypes.HistoryVisibility] = ["history_visibility"],
        },
        keepsAllCreateContent: false,
        keepsThirdPartyInviteSigned: false);

    /// <summary>Room version 8: <c>m.room.join_rules</c> also keeps <c>allow</c>.</summary>
    public static readonly RedactionRules V8 = new(
        "v8",
        OriginalTopLevel,
        new Dictionary<string, string[]>
        {
            [EventTypes.Member] = ["membership"],
            [EventTypes.Create] = ["creator"],
            [EventTypes.JoinRules] = ["join_rule", "allow"],
            [EventTypes.PowerLevels] = PowerLevelKeys,
            [EventTypes.HistoryVisibility] = ["history_visibility"],
        },
        keepsAllCreateContent: false,
        keepsThirdPartyInviteSigned: false);

    /// <summary>Room versions 9 and 10: <c>m.room.member</c> also keeps <c>join_authorised_via_users_server</c>.</summary>
    public static readonly RedactionRules V9 = new(
        "v9",
        OriginalTopLevel,
        new Dictionary<string, string[]>
        {
            [EventTypes.Member] = ["membership", "join_authorised_via_users_server"],
            [EventTypes.Create] = ["creator"],
            [EventTypes.JoinRules] = ["join_rule", "allow"],
            [EventTypes.PowerLevels] = PowerLevelKeys,
            [EventTypes.HistoryVisibility] = ["history_visibility"],
        },
        keepsAllCreateContent: false,
        keepsThirdPartyInviteSigned: false);

    /// <summary>
    /// Room versions 11 and 12: top-level <c>origin</c>, <c>membership</c> and <c>prev_state</c> are no longer
    /// kept; <c>m.room.create</c> keeps all of its content; <c>m.room.redaction</c> keeps <c>redacts</c>;
    /// <c>m.room.power_levels</c> keeps <c>invite</c>; <c>m.room.member</c> keeps <c>third_party_invite.signed</c>.
    /// </summary>
    public static readonly RedactionRules V11 = new(
        "v11",
        [
            "event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures", "depth",
            "prev_events", "auth_events", "origin_server_ts",
        ],
        new Dictionary<string, string[]>
        {
            [EventTypes.Member] = ["membership", "join_authorised_via_users_server"],
            [EventTypes.JoinRules] = ["join_rule", "allow"],
            [EventTypes.PowerLevels] = [.. PowerLevelKeys, "invite"],
            [EventTypes.HistoryVisibility] = ["history_visibility"],
            [EventTypes.Redaction] = ["redacts"],
        },
        keepsAllCreateContent: true,
        keepsThirdPartyInviteSigned: true);

    private RedactionRules(
        string name,
        string[] topLevelKeys,
        Dictionary<string, string[]> contentKeys,
        bool keepsAllCreateContent,
        bool keepsThirdPartyInviteSigned)
    {
        Name = name;
        TopLevelKeys = topLevelKeys.ToFrozenSet(StringComparer.Ordinal);
        ContentKeys = contentKeys.ToFrozenDictionary(
            pair => pair.Key,
            pair => (IReadOnlySet<string>)pair.Value.ToFrozenSet(StringComparer.Ordinal),
            StringComparer.Ordinal);
        KeepsAllCreateContent = keepsAllCreateContent;
        KeepsThirdPartyInviteSigned = keepsThirdPartyInviteSigned;
    }

    /// <summary>The room version whose section introduced this variant, e.g. <c>v9</c>.</summary>
    public string Name { get; }

    /// <summary>Every other top-level key is stripped.</summary>
    public IReadOnlySet<string> TopLevelKeys { get; }

    /// <summary>By event type, the <c>content</c> keys kept; events of other types keep an empty <c>content</c>.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> ContentKeys { get; }

    /// <summary><c>m.room.create</c> keeps its whole <c>content</c>.</summary>
    public bool KeepsAllCreateContent { get; }

    /// <summary><c>m.room.member</c> keeps <c>third_party_invite</c>, reduced to its <c>signed</c> key.</summary>
    public bool KeepsThirdPartyInviteSigned { get; }

    public override string ToString() => Name;
}
