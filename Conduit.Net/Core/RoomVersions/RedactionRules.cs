using System.Collections.Frozen;
using Conduit.Net.Core.Events;

namespace Conduit.Net.Core.RoomVersions;

/// <summary>
/// One variant of the redaction algorithm, as data: the top-level keys that survive, and for each event
/// type the <c>content</c> keys that survive. <see cref="V1"/> is the original list; the room version
/// table derives the later variants from it through <see cref="Revise"/>, each with the changes its room
/// version's section lists (versions 6, 8, 9 and 11). <see cref="Events.Redaction"/> applies them.
/// </summary>
public sealed class RedactionRules
{
    /// <summary>Room versions 1 to 5.</summary>
    public static readonly RedactionRules V1 = new(
        "v1",
        [
            "event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures", "depth",
            "prev_events", "prev_state", "auth_events", "origin", "origin_server_ts", "membership",
        ],
        new Dictionary<string, IReadOnlySet<string>>
        {
            [EventTypes.Member] = Keys("membership"),
            [EventTypes.Create] = Keys("creator"),
            [EventTypes.JoinRules] = Keys("join_rule"),
            [EventTypes.PowerLevels] = Keys("ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"),
            [EventTypes.Aliases] = Keys("aliases"),
            [EventTypes.HistoryVisibility] = Keys("history_visibility"),
        },
        keepsAllCreateContent: false,
        keepsThirdPartyInviteSigned: false);

    private RedactionRules(
        string name,
        IEnumerable<string> topLevelKeys,
        IEnumerable<KeyValuePair<string, IReadOnlySet<string>>> contentKeys,
        bool keepsAllCreateContent,
        bool keepsThirdPartyInviteSigned)
    {
        Name = name;
        TopLevelKeys = topLevelKeys.ToFrozenSet(StringComparer.Ordinal);
        ContentKeys = contentKeys.ToFrozenDictionary(StringComparer.Ordinal);
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

    /// <summary>
    /// This variant with one room version's changes, written as its section lists them: top-level keys
    /// no longer kept, <c>content</c> keys newly kept per event type, event types whose content is no
    /// longer kept, and the two special cases switched on.
    /// </summary>
    public RedactionRules Revise(
        string name,
        string[]? dropTopLevel = null,
        IReadOnlyDictionary<string, string[]>? keepContent = null,
        string[]? dropContentOf = null,
        bool keepsAllCreateContent = false,
        bool keepsThirdPartyInviteSigned = false)
    {
        var contentKeys = ContentKeys.ToDictionary(StringComparer.Ordinal);
        foreach (var type in dropContentOf ?? [])
            contentKeys.Remove(type);
        foreach (var (type, keys) in keepContent ?? new Dictionary<string, string[]>())
            contentKeys[type] = Keys([.. contentKeys.GetValueOrDefault(type) ?? new HashSet<string>(), .. keys]);
        return new RedactionRules(
            name,
            TopLevelKeys.Except(dropTopLevel ?? []),
            contentKeys,
            KeepsAllCreateContent || keepsAllCreateContent,
            KeepsThirdPartyInviteSigned || keepsThirdPartyInviteSigned);
    }

    public override string ToString() => Name;

    private static FrozenSet<string> Keys(params string[] keys) => keys.ToFrozenSet(StringComparer.Ordinal);
}
