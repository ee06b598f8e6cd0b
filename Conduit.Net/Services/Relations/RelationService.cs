using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Relations;

/// <summary>A page of <c>/relations</c>: the children and the tokens around them.</summary>
/// <param name="RecursionDepth">How deep the server looked, when the client asked about <c>recurse</c> at all.</param>
public sealed record RelationsPage(JsonArray Chunk, string? NextBatch, string? PrevBatch, int? RecursionDepth);

/// <summary>A page of <c>/threads</c>.</summary>
public sealed record ThreadsPage(JsonArray Chunk, string? NextBatch);

/// <summary>
/// Reading relations: a parent's children (<c>GET /relations</c>, direct or through relations of
/// relations) and the room's threads by latest activity (<c>GET /threads</c>). Access is that of room
/// history (<see cref="RoomHistory"/>): members, and who left up to their leave; every event returned
/// passes history visibility and carries its bundled aggregations.
/// </summary>
public sealed class RelationService
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1000;
    public const int DefaultThreadsLimit = 20;
    public const int MaxThreadsLimit = 100;

    /// <summary>Levels of relations of relations followed with <c>recurse</c>; the spec asks for at least 3.</summary>
    public const int RecursionDepth = 3;

    /// <summary>Entries looked at per request beyond those returned, so that hidden or filtered ones cannot make one request unbounded.</summary>
    private const int MaxScanned = 2000;

    /// <summary>Descendants collected for one recursive request.</summary>
    private const int MaxDescendants = 10_000;

    private readonly RoomEvents _events;
    private readonly RoomHistory _history;
    private readonly RoomService _rooms;
    private readonly HistoryVisibility _visibility;
    private readonly RelationIndex _index;

    public RelationService(RoomEvents events, RoomHistory history, RoomService rooms, HistoryVisibility visibility, RelationIndex index)
    {
        _events = events;
        _history = history;
        _rooms = rooms;
        _visibility = visibility;
        _index = index;
    }

    /// <summary>
    /// <c>GET /relations/{eventId}[/{relType}[/{eventType}]]</c>: up to <paramref name="limit"/> children
    /// from the token <paramref name="from"/> (default: the newest backwards, the oldest forwards) towards
    /// <paramref name="to"/>. With <paramref name="recurse"/>, children of children too, up to
    /// <see cref="RecursionDepth"/> levels, each level passing the same filters. 404 when the parent is
    /// not in the room or the user may not see it; 403 when the user may not read the room at all.
    /// </summary>
    public RelationsPage Children(
        string userId, string deviceId, string roomId, string eventId, string? relType, string? eventType,
        long? from, long? to, bool backwards, int limit, bool? recurse)
    {
        var (room, readUpTo) = _history.Access(userId, roomId);
        var checker = _visibility.ForClient(userId, room);
        var parent = _events.Ids.FindEvent(eventId) is { } shortEventId ? _events.Timeline.Get(shortEventId) : null;
        if (parent is null || parent.ShortRoomId != room.ShortRoomId || (readUpTo is { } bound && parent.Position > bound) || !checker.MaySee(parent))
            throw MatrixException.NotFound("Event not found.");

        limit = Math.Clamp(limit, 1, MaxLimit);
        var (after, upTo) = backwards ? (to, Min(from, readUpTo)) : (from, Min(to, readUpTo));
        var candidates = recurse == true
            ? Descendants(room.ShortRoomId, eventId, relType, eventType, after, upTo, backwards)
            : _index.Children(room.ShortRoomId, eventId, relType, after, upTo, backwards).Where(e => eventType is null || e.EventType == eventType);

        var chunk = new JsonArray();
        long? last = null;
        var exhausted = true;
        var scanned = 0;
        foreach (var entry in candidates)
        {
            if (chunk.Count >= limit || scanned >= MaxScanned + limit)
            {
                exhausted = false;
                break;
            }
            scanned++;
            last = entry.Position;
            if (_events.Timeline.Get(entry.ShortEventId) is { } child && checker.MaySee(child))
                chunk.Add((JsonNode)_rooms.Format(child, room, userId, deviceId));
        }

        var next = !exhausted && last is { } position ? TimelineToken.Format(backwards ? position - 1 : position) : null;
        var prev = from is { } start ? TimelineToken.Format(start) : null;
        int? depth = recurse is { } deep ? (deep ? RecursionDepth : 1) : null;
        return new RelationsPage(chunk, next, prev, depth);
    }

    /// <summary>
    /// <c>GET /threads</c>: thread roots the user may see, by the position of their newest reply, newest
    /// first, from the token <paramref name="from"/>; only threads the user started or replied in when
    /// <paramref name="participatedOnly"/>. 403 when the user may not read the room.
    /// </summary>
    public ThreadsPage Threads(string userId, string deviceId, string roomId, bool participatedOnly, long? from, int limit)
    {
        var (room, readUpTo) = _history.Access(userId, roomId);
        var checker = _visibility.ForClient(userId, room);
        limit = Math.Clamp(limit, 1, MaxThreadsLimit);

        var chunk = new JsonArray();
        long? last = null;
        var exhausted = true;
        var scanned = 0;
        foreach (var (activity, rootId) in _index.ThreadsByActivity(room.ShortRoomId, Min(from, readUpTo)))
        {
            if (chunk.Count >= limit || scanned >= MaxScanned + limit)
            {
                exhausted = false;
                break;
            }
            scanned++;
            last = activity;
            var root = _events.Ids.FindEvent(rootId) is { } shortEventId ? _events.Timeline.Get(shortEventId) : null;
            if (root is null
                || root.ShortRoomId != room.ShortRoomId
                || (readUpTo is { } bound && root.Position > bound)
                || (participatedOnly && root.Sender != userId && !_index.RepliedInThread(room.ShortRoomId, rootId, userId))
                || !checker.MaySee(root))
                continue;
            chunk.Add((JsonNode)_rooms.Format(root, room, userId, deviceId));
        }
        return new ThreadsPage(chunk, !exhausted && last is { } position ? TimelineToken.Format(position - 1) : null);
    }

    /// <summary>
    /// The children of <paramref name="parentId"/>, their children and so on down to <see cref="RecursionDepth"/>
    /// levels, each through relations that pass the filters (the spec: an event reached only through a
    /// filtered-out one is not included), in the window, in timeline order.
    /// </summary>
    private IEnumerable<RelationEntry> Descendants(ulong shortRoomId, string parentId, string? relType, string? eventType, long? after, long? upTo, bool newestFirst)
    {
        var found = new Dictionary<ulong, RelationEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { parentId };
        List<string> level = [parentId];
        for (var depth = 0; depth < RecursionDepth && level.Count > 0 && found.Count < MaxDescendants; depth++)
        {
            List<string> next = [];
            foreach (var parent in level)
            {
                foreach (var entry in _index.Children(shortRoomId, parent, relType, null, null, newestFirst: false))
                {
                    if ((eventType is not null && entry.EventType != eventType) || found.ContainsKey(entry.ShortEventId))
                        continue;
                    found[entry.ShortEventId] = entry;
                    if (_events.Timeline.Get(entry.ShortEventId) is { } child && seen.Add(child.EventId))
                        next.Add(child.EventId);
                    if (found.Count >= MaxDescendants)
                        break;
                }
            }
            level = next;
        }
        var window = found.Values.Where(e => (after is null || e.Position > after) && (upTo is null || e.Position <= upTo));
        return newestFirst ? window.OrderByDescending(e => e.Position) : window.OrderBy(e => e.Position);
    }

    private static long? Min(long? a, long? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);
}
