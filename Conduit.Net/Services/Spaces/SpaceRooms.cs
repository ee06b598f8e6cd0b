using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Directories;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Spaces;

/// <summary>A valid <c>m.space.child</c> of a space: the child room and the servers to reach it through.</summary>
public sealed record SpaceChild(string RoomId, IReadOnlyList<string> Via, bool Suggested);

/// <summary>
/// What this server knows of the rooms of a space tree from its own state: the room summaries the
/// hierarchy endpoints answer, who may see them, and a space's children. Served as is to other
/// servers by <c>GET /_matrix/federation/v1/hierarchy/{roomId}</c>.
/// </summary>
public sealed class SpaceRooms(RoomEvents events, RoomSummaries summaries)
{
    public const string SpaceChildType = "m.space.child";
    public const string SpaceRoomType = "m.space";
    private const string EncryptionType = "m.room.encryption";

    /// <summary>The longest <c>order</c> the spec accepts; a longer one is ignored for ordering.</summary>
    private const int MaxOrderLength = 50;

    public RoomSnapshot? Find(string roomId) => events.Find(roomId);

    /// <summary>
    /// Whether <paramref name="userId"/> may see the room in a hierarchy: joined or invited, or the room
    /// lets them in or look in (public, knockable, world-readable history, or restricted to a room they
    /// are joined to here).
    /// </summary>
    public bool UserMaySee(string userId, RoomSnapshot room)
    {
        if (events.Members.Get(room.ShortRoomId, userId)?.Membership is Membership.Join or Membership.Invite)
            return true;
        return OpenToAll(room) || AllowedRooms(room).Any(allowed => IsJoined(userId, allowed.Value));
    }

    /// <summary>
    /// Whether <paramref name="origin"/> could peek into or join the room: it has a joined member, or the room
    /// lets anyone in or look in, or it is restricted to a room where that server has a joined member.
    /// </summary>
    public bool ServerMaySee(string origin, RoomSnapshot room) =>
        HasMemberOf(origin, room.ShortRoomId)
        || OpenToAll(room)
        || AllowedRooms(room).Any(allowed => events.Ids.FindRoom(allowed.Value) is { } shortRoomId && HasMemberOf(origin, shortRoomId));

    /// <summary>Whether the user is joined to the room on this server.</summary>
    public bool IsJoined(string userId, string roomId) =>
        events.Ids.FindRoom(roomId) is { } shortRoomId && events.Members.Get(shortRoomId, userId)?.Membership == Membership.Join;

    /// <summary>
    /// The room's valid <c>m.space.child</c> events (a non-empty <c>via</c> list of strings), ordered as the
    /// spec asks: children with a valid <c>order</c> first by it (code points), then by the event's
    /// <c>origin_server_ts</c>, then by room id; only suggested ones with <paramref name="suggestedOnly"/>.
    /// </summary>
    public IReadOnlyList<StoredEvent> ChildEvents(RoomSnapshot room, bool suggestedOnly)
    {
        var children = new List<StoredEvent>();
        foreach (var entry in room.State.Entries)
        {
            var (type, stateKey) = events.Ids.StateKeyOf(entry.Key);
            if (type != SpaceChildType || !RoomId.TryParse(stateKey, out _) || events.Timeline.GetAny(entry.Event) is not { } stored)
                continue;
            var child = Child(stored.StateKey!, stored.Content);
            if (child is not null && (!suggestedOnly || child.Suggested))
                children.Add(stored);
        }
        children.Sort(static (a, b) =>
        {
            var (orderA, orderB) = (Order(a.Content), Order(b.Content));
            if (orderA is not null || orderB is not null)
            {
                if (orderA is null || orderB is null)
                    return orderA is null ? 1 : -1;
                var byOrder = string.CompareOrdinal(orderA, orderB);
                if (byOrder != 0)
                    return byOrder;
            }
            var byTime = a.OriginServerTs.CompareTo(b.OriginServerTs);
            return byTime != 0 ? byTime : string.CompareOrdinal(a.StateKey, b.StateKey);
        });
        return children;
    }

    /// <summary>The child an <c>m.space.child</c> event's content names, or null when it names none (no valid <c>via</c>).</summary>
    public static SpaceChild? Child(string roomId, JsonElement content)
    {
        if (content.ValueKind != JsonValueKind.Object || !content.TryGetProperty("via", out var via) || via.ValueKind != JsonValueKind.Array)
            return null;
        var servers = via.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).Where(s => s.Length > 0).ToArray();
        if (servers.Length == 0)
            return null;
        var suggested = content.TryGetProperty("suggested", out var flag) && flag.ValueKind == JsonValueKind.True;
        return new SpaceChild(roomId, servers, suggested);
    }

    /// <summary>
    /// The room as a hierarchy entry: the <c>/publicRooms</c> chunk fields, <c>room_type</c>, <c>room_version</c>,
    /// <c>encryption</c>, <c>allowed_room_ids</c> of a restricted room, and <c>children_state</c>: the child
    /// events stripped (type, state_key, content, sender) with their <c>origin_server_ts</c>.
    /// </summary>
    public JsonObject Entry(RoomSnapshot room, IReadOnlyList<StoredEvent> childEvents)
    {
        var summary = summaries.Get(room.RoomId) ?? throw MatrixException.NotFound($"Room {room.RoomId} is not known here.");
        var entry = summary.ToChunkEntry(summaries.JoinedMembers(summary));
        entry["room_version"] = room.Version.Id;
        if (events.StateEvent(room, EncryptionType, "") is { Content: { ValueKind: JsonValueKind.Object } encryption }
            && encryption.TryGetProperty("algorithm", out var algorithm) && algorithm.ValueKind == JsonValueKind.String)
            entry["encryption"] = algorithm.GetString();
        if (IsRestricted(room))
            entry["allowed_room_ids"] = new JsonArray([.. AllowedRooms(room).Select(r => (JsonNode)r.Value)]);
        var childrenState = new JsonArray();
        foreach (var child in childEvents)
        {
            childrenState.Add((JsonNode)new JsonObject
            {
                ["type"] = child.Type,
                ["state_key"] = child.StateKey,
                ["content"] = child.ContentObject(),
                ["sender"] = child.Sender,
                ["origin_server_ts"] = child.OriginServerTs,
            });
        }
        entry["children_state"] = childrenState;
        return entry;
    }

    /// <summary>
    /// <c>GET /_matrix/federation/v1/hierarchy/{roomId}</c>: the room with its children's events, the children
    /// this server knows and <paramref name="origin"/> may see, and the ones it knows that it may not.
    /// Children this server does not know are left out.
    /// </summary>
    /// <exception cref="MatrixException">404 for a room unknown here or one <paramref name="origin"/> may not see.</exception>
    public JsonObject ForServer(string origin, string roomId, bool suggestedOnly)
    {
        if (events.Find(roomId) is not { } room || !ServerMaySee(origin, room))
            throw MatrixException.NotFound($"Room {roomId} is not known here or not visible to {origin}.");
        var childEvents = ChildEvents(room, suggestedOnly);
        var children = new JsonArray();
        var inaccessible = new JsonArray();
        foreach (var childEvent in childEvents)
        {
            if (events.Find(childEvent.StateKey!) is not { } child)
                continue;
            if (ServerMaySee(origin, child))
                children.Add((JsonNode)Entry(child, ChildEvents(child, suggestedOnly)));
            else
                inaccessible.Add((JsonNode)child.RoomId);
        }
        return new JsonObject
        {
            ["room"] = Entry(room, childEvents),
            ["children"] = children,
            ["inaccessible_children"] = inaccessible,
        };
    }

    /// <summary>Join rule public, or knock / knock_restricted where the version has them, or world-readable history.</summary>
    private bool OpenToAll(RoomSnapshot room)
    {
        var joinRule = JoinRules.Of(events.Lookup(room));
        return joinRule == JoinRules.Public
            || (room.Version.Knocking && joinRule == JoinRules.Knock)
            || (room.Version.KnockRestrictedJoins && joinRule == JoinRules.KnockRestricted)
            || summaries.Get(room.RoomId)?.WorldReadable == true;
    }

    private bool IsRestricted(RoomSnapshot room)
    {
        var joinRule = JoinRules.Of(events.Lookup(room));
        return (room.Version.RestrictedJoins && joinRule == JoinRules.Restricted)
            || (room.Version.KnockRestrictedJoins && joinRule == JoinRules.KnockRestricted);
    }

    private IReadOnlyList<RoomId> AllowedRooms(RoomSnapshot room) =>
        IsRestricted(room) && events.Lookup(room).Find(EventTypes.JoinRules, "") is { } joinRules
            ? JoinRules.AllowedRooms(joinRules.Content)
            : [];

    private bool HasMemberOf(string server, ulong shortRoomId) =>
        events.Members.Members(shortRoomId, Membership.Join)
            .Any(member => UserId.TryParse(member, out var user) && user.Server.Value == server);

    /// <summary>A valid <c>order</c>: a string of at most 50 characters between U+0020 and U+007E.</summary>
    private static string? Order(JsonElement content) =>
        content.ValueKind == JsonValueKind.Object
        && content.TryGetProperty("order", out var order)
        && order.ValueKind == JsonValueKind.String
        && order.GetString() is { Length: <= MaxOrderLength } text
        && text.All(c => c is >= '\x20' and <= '\x7E')
            ? text
            : null;
}
