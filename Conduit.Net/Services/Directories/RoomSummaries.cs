using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Directories;

/// <summary>
/// What the directories show of a room, read from its current state: the fields of a
/// <c>/publicRooms</c> chunk entry except the member count, which <see cref="RoomSummaries.JoinedMembers"/>
/// reads live.
/// </summary>
/// <param name="StateHash">The snapshot of the current state this summary was read from.</param>
/// <param name="AltAliases">The canonical alias event's <c>alt_aliases</c>, searched like the canonical alias.</param>
public sealed record RoomSummary(
    string RoomId,
    ulong ShortRoomId,
    ulong StateHash,
    string? Name,
    string? Topic,
    string? CanonicalAlias,
    IReadOnlyList<string> AltAliases,
    string? AvatarUrl,
    string? JoinRule,
    bool WorldReadable,
    bool GuestCanJoin,
    string? RoomType)
{
    /// <summary>
    /// What the user directory calls a public room (users.yaml): anyone may join it (join rule
    /// <c>public</c>) or read it (<c>world_readable</c> history).
    /// </summary>
    public bool IsPublic => JoinRule == JoinRules.Public || WorldReadable;

    /// <summary>
    /// The room as a <c>/publicRooms</c> chunk entry, which the space hierarchy's entries extend; unset
    /// optional fields are left out rather than sent as null.
    /// </summary>
    public JsonObject ToChunkEntry(int joinedMembers)
    {
        var entry = new JsonObject
        {
            ["room_id"] = RoomId,
            ["num_joined_members"] = joinedMembers,
            ["world_readable"] = WorldReadable,
            ["guest_can_join"] = GuestCanJoin,
        };
        AddIfSet(entry, "name", Name);
        AddIfSet(entry, "topic", Topic);
        AddIfSet(entry, "canonical_alias", CanonicalAlias);
        AddIfSet(entry, "avatar_url", AvatarUrl);
        AddIfSet(entry, "join_rule", JoinRule);
        AddIfSet(entry, "room_type", RoomType);
        return entry;
    }

    private static void AddIfSet(JsonObject target, string name, string? value)
    {
        if (value is not null)
            target[name] = value;
    }
}

/// <summary>
/// Room summaries, cached per room and checked against the room's current state snapshot: a state
/// event changes the snapshot, so the next read rebuilds the summary (eight point reads of the
/// current state), and a room whose state did not change costs one dictionary look-up. Member
/// counts come from the membership index's exact counts instead, so that joins do not have to
/// rebuild anything else.
/// </summary>
public sealed class RoomSummaries
{
    private const string NameType = "m.room.name";
    private const string TopicType = "m.room.topic";
    private const string AvatarType = "m.room.avatar";
    private const string CanonicalAliasType = "m.room.canonical_alias";
    private const string GuestAccessType = "m.room.guest_access";

    private readonly RoomEvents _events;
    private readonly LruCache<string, RoomSummary> _cache = new(50_000);

    public RoomSummaries(RoomEvents events) => _events = events;

    /// <summary>The summary of the room's current state, or null when this server does not know the room.</summary>
    public RoomSummary? Get(string roomId)
    {
        if (_events.Find(roomId) is not { } room)
            return null;
        if (_cache.TryGet(roomId, out var cached) && cached.StateHash == room.StateHash)
            return cached;
        var summary = Build(room);
        _cache.Set(roomId, summary);
        return summary;
    }

    /// <summary>How many users are joined to the room now.</summary>
    public int JoinedMembers(RoomSummary summary) => _events.Members.Count(summary.ShortRoomId, Membership.Join);

    private RoomSummary Build(RoomSnapshot room)
    {
        JsonElement? Content(string type) => _events.StateEvent(room, type, "")?.Content;

        var aliases = Content(CanonicalAliasType);
        return new RoomSummary(
            room.RoomId,
            room.ShortRoomId,
            room.StateHash,
            Name: NonEmptyString(Content(NameType), "name"),
            Topic: PlainTopic(Content(TopicType)),
            CanonicalAlias: NonEmptyString(aliases, "alias"),
            AltAliases: Strings(aliases, "alt_aliases"),
            AvatarUrl: NonEmptyString(Content(AvatarType), "url"),
            JoinRule: NonEmptyString(Content(EventTypes.JoinRules), "join_rule"),
            WorldReadable: NonEmptyString(Content(EventTypes.HistoryVisibility), "history_visibility") == HistoryVisibility.WorldReadable,
            GuestCanJoin: NonEmptyString(Content(GuestAccessType), "guest_access") == "can_join",
            RoomType: NonEmptyString(Content(EventTypes.Create), "type"));
    }

    /// <summary>
    /// The plain-text topic: the <c>text/plain</c> representation of <c>m.topic</c> (a representation
    /// without a mimetype is plain text), else the <c>topic</c> key, which the event schema defines as
    /// the topic in plain text.
    /// </summary>
    private static string? PlainTopic(JsonElement? content)
    {
        if (content is not { } topic)
            return null;
        if (topic.TryGetProperty("m.topic", out var block) && block.ValueKind == JsonValueKind.Object
            && block.TryGetProperty("m.text", out var texts) && texts.ValueKind == JsonValueKind.Array)
        {
            foreach (var text in texts.EnumerateArray())
            {
                if (text.ValueKind != JsonValueKind.Object || NonEmptyString(text, "body") is not { } body)
                    continue;
                var mimetype = text.TryGetProperty("mimetype", out var m) ? m : default;
                if (mimetype.ValueKind == JsonValueKind.Undefined || (mimetype.ValueKind == JsonValueKind.String && mimetype.GetString() == "text/plain"))
                    return body;
            }
        }
        return NonEmptyString(topic, "topic");
    }

    private static string? NonEmptyString(JsonElement? content, string name) =>
        content is { ValueKind: JsonValueKind.Object } obj
        && obj.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String
        && value.GetString() is { Length: > 0 } text
            ? text
            : null;

    private static string[] Strings(JsonElement? content, string name)
    {
        if (content is not { ValueKind: JsonValueKind.Object } obj || !obj.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
            return [];
        return [.. array.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!)];
    }
}
