using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Events;
using Conduit.Net.Services.Filters;

namespace Conduit.Net.Services.Rooms;

/// <summary>One page of <c>/messages</c>.</summary>
/// <param name="End">Null when there is nothing more in that direction.</param>
public sealed record MessagesPage(string Start, string? End, JsonArray Chunk, JsonArray State);

/// <summary>
/// Room history as clients page through it: <c>/messages</c> in both directions with stable tokens,
/// <c>/context/{eventId}</c> and <c>/timestamp_to_event</c>. Every event passes the room event
/// filter and <see cref="HistoryVisibility"/>; a user who left reads up to their leave event and no
/// further; a user who forgot the room, or was never in it, reads nothing (unless it is world readable).
/// </summary>
public sealed class RoomHistory
{
    public const int DefaultLimit = 10;
    public const int MaxLimit = 1000;

    /// <summary>Events looked at per request beyond those returned, so that a page of hidden events cannot make one request unbounded.</summary>
    private const int MaxScanned = 2000;

    /// <summary>Events around the binary search's landing point that timestamp_to_event compares, for clocks that were not monotonic.</summary>
    private const int TimestampWindow = 64;

    /// <summary>How many times one <c>/messages</c> request fetches earlier history from other servers.</summary>
    private const int MaxBackfillRounds = 3;

    private readonly RoomEvents _events;
    private readonly RoomService _rooms;
    private readonly HistoryVisibility _visibility;
    private readonly IRoomBackfill _backfill;

    public RoomHistory(RoomEvents events, RoomService rooms, HistoryVisibility visibility, IRoomBackfill backfill)
    {
        _events = events;
        _rooms = rooms;
        _visibility = visibility;
        _backfill = backfill;
    }

    /// <summary>
    /// <c>GET /messages</c> as <see cref="Messages"/>, fetching earlier history from the room's other
    /// servers when a backwards page runs out of events here before it is full (the room's history
    /// here began with this server's join, or with history fetched earlier); the page then goes on
    /// into what was fetched.
    /// </summary>
    public async Task<MessagesPage> MessagesAsync(string userId, string deviceId, string roomId, long? from, long? to, bool backwards, int limit, RoomEventFilter filter, CancellationToken cancellationToken)
    {
        var page = Messages(userId, deviceId, roomId, from, to, backwards, limit, filter);
        for (var round = 0; round < MaxBackfillRounds && backwards && to is null && page.End is null && page.Chunk.Count < limit && filter.IncludesRoom(roomId); round++)
        {
            if (_events.Find(roomId) is not { } room || !await _backfill.BackfillAsync(room, cancellationToken))
                break;
            page = Messages(userId, deviceId, roomId, from, to, backwards, limit, filter);
        }
        return page;
    }

    /// <summary>
    /// <c>GET /messages</c>: up to <paramref name="limit"/> events from the token <paramref name="from"/>
    /// (default: the newest event backwards, the oldest forwards) towards <paramref name="to"/>.
    /// </summary>
    public MessagesPage Messages(string userId, string deviceId, string roomId, long? from, long? to, bool backwards, int limit, RoomEventFilter filter)
    {
        var (room, readUpTo) = Access(userId, roomId);
        limit = Math.Clamp(limit, 0, MaxLimit);
        var checker = _visibility.ForClient(userId, room);
        var chunk = new List<StoredEvent>();

        IEnumerable<StoredEvent> range;
        long start;
        if (backwards)
        {
            start = from ?? room.LastPosition;
            range = _events.Timeline.Range(room.ShortRoomId, to, Min(start, readUpTo), newestFirst: true);
        }
        else
        {
            start = from ?? (_events.Timeline.Range(room.ShortRoomId, null, null, newestFirst: false).FirstOrDefault()?.Position - 1 ?? 0);
            range = _events.Timeline.Range(room.ShortRoomId, start, Min(to, readUpTo), newestFirst: false);
        }

        long? last = null;
        var exhausted = true;
        if (filter.IncludesRoom(room.RoomId))
        {
            var scanned = 0;
            foreach (var stored in range)
            {
                if (chunk.Count >= limit || scanned >= MaxScanned + limit)
                {
                    exhausted = false;
                    break;
                }
                scanned++;
                last = stored.Position;
                if (filter.Matches(room.RoomId, stored.Type, stored.Sender, stored.Content) && checker.MaySee(stored))
                    chunk.Add(stored);
            }
        }

        string? end = null;
        if (!exhausted)
            end = TimelineToken.Format(last is { } position ? (backwards ? position - 1 : position) : start);
        var state = filter.LazyLoadMembers ? SenderMembers(room, chunk, userId) : [];
        return new MessagesPage(TimelineToken.Format(start), end, Format(chunk, room, userId, deviceId), state);
    }

    /// <summary>
    /// <c>GET /context/{eventId}</c>: the event with up to <paramref name="limit"/> events around it
    /// (half before, the rest after), tokens to page further each way, and the state at the last
    /// event returned (only the senders' memberships when the filter lazy-loads members).
    /// </summary>
    public JsonObject Context(string userId, string deviceId, string roomId, string eventId, int limit, RoomEventFilter filter)
    {
        var (room, readUpTo) = Access(userId, roomId);
        var checker = _visibility.ForClient(userId, room);
        var target = _events.Ids.FindEvent(eventId) is { } shortEventId ? _events.Timeline.Get(shortEventId) : null;
        if (target is null || target.ShortRoomId != room.ShortRoomId || (readUpTo is { } bound && target.Position > bound) || !checker.MaySee(target))
            throw MatrixException.NotFound("Event not found.");

        limit = Math.Clamp(limit, 0, MaxLimit);
        var beforeLimit = limit / 2;
        var before = Collect(_events.Timeline.Range(room.ShortRoomId, null, target.Position - 1, newestFirst: true), room.RoomId, beforeLimit, filter, checker);
        var after = Collect(_events.Timeline.Range(room.ShortRoomId, target.Position, readUpTo, newestFirst: false), room.RoomId, limit - beforeLimit, filter, checker);

        var lastReturned = after.Count > 0 ? after[^1] : target;
        JsonArray state;
        if (filter.LazyLoadMembers)
        {
            state = SenderMembers(room, [.. before, target, .. after], userId);
        }
        else
        {
            state = [];
            foreach (var stored in _events.StateEvents(_rooms.StateAfter(lastReturned.ShortEventId)))
                state.Add((JsonNode)_rooms.FormatState(stored, room, userId));
        }
        return new JsonObject
        {
            ["start"] = TimelineToken.Format((before.Count > 0 ? before[^1].Position : target.Position) - 1),
            ["end"] = TimelineToken.Format(after.Count > 0 ? after[^1].Position : target.Position),
            ["events_before"] = Format(before, room, userId, deviceId),
            ["event"] = _rooms.Format(target, room, userId, deviceId),
            ["events_after"] = Format(after, room, userId, deviceId),
            ["state"] = state,
        };
    }

    /// <summary>
    /// <c>GET /timestamp_to_event</c>: the visible event closest to <paramref name="timestamp"/> at or
    /// after it (<paramref name="backwards"/> false) or at or before it. 404 when there is none.
    /// </summary>
    /// <remarks>
    /// Timestamps follow positions closely but not exactly (clocks of other servers, backfill), so a
    /// binary search over positions finds the neighbourhood and the events around it are compared.
    /// </remarks>
    public (string EventId, long OriginServerTs) TimestampToEvent(string userId, string roomId, long timestamp, bool backwards)
    {
        var (room, readUpTo) = Access(userId, roomId);
        var checker = _visibility.ForUser(userId, room);
        var timeline = _events.Timeline;
        var first = timeline.Range(room.ShortRoomId, null, readUpTo, newestFirst: false).FirstOrDefault();
        var lastEvent = timeline.Range(room.ShortRoomId, null, readUpTo, newestFirst: true).FirstOrDefault();
        if (first is null || lastEvent is null)
            throw MatrixException.NotFound("The room has no events.");

        // The first position whose event is at or after the timestamp (or one past the last event):
        // every iteration shrinks [low, high), skipping the gaps between the sparse positions.
        long low = first.Position, high = lastEvent.Position + 1;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            var probe = timeline.Range(room.ShortRoomId, middle - 1, high - 1, newestFirst: false).FirstOrDefault();
            if (probe is null)
                high = middle;
            else if (probe.OriginServerTs < timestamp)
                low = probe.Position + 1;
            else
                high = probe.Position;
        }

        var window = timeline.Range(room.ShortRoomId, null, low - 1, newestFirst: true).Take(TimestampWindow).Reverse()
            .Concat(timeline.Range(room.ShortRoomId, low - 1, readUpTo, newestFirst: false).Take(TimestampWindow));
        StoredEvent? best = null;
        foreach (var candidate in window)
        {
            var fits = backwards ? candidate.OriginServerTs <= timestamp : candidate.OriginServerTs >= timestamp;
            if (!fits || !checker.MaySee(candidate))
                continue;
            if (best is null || (backwards ? candidate.OriginServerTs >= best.OriginServerTs : candidate.OriginServerTs < best.OriginServerTs))
                best = candidate;
        }
        return best is null
            ? throw MatrixException.NotFound($"No event found {(backwards ? "at or before" : "at or after")} {timestamp}.")
            : (best.EventId, best.OriginServerTs);
    }

    /// <summary>
    /// Which room and how far the user may page: everything (filtered by visibility) while in the
    /// room in any way or when it is world readable; up to their leave or ban event after leaving;
    /// 403 after forgetting it or when never in it.
    /// </summary>
    internal (RoomSnapshot Room, long? ReadUpTo) Access(string userId, string roomId)
    {
        var room = _events.Find(roomId) ?? throw RoomService.NotInRoom();
        var record = _events.Members.Get(room.ShortRoomId, userId);
        if (record is { Forgotten: false, Membership: Membership.Leave or Membership.Ban })
            return (room, record.Position);
        if (record is { Membership: Membership.Join or Membership.Invite or Membership.Knock })
            return (room, null);
        if (_visibility.VisibilityAt(room.StateHash) == HistoryVisibility.WorldReadable)
            return (room, null);
        throw RoomService.NotInRoom();
    }

    private static List<StoredEvent> Collect(IEnumerable<StoredEvent> range, string roomId, int limit, RoomEventFilter filter, HistoryVisibility.Checker checker)
    {
        var collected = new List<StoredEvent>();
        if (limit == 0)
            return collected;
        var scanned = 0;
        foreach (var stored in range)
        {
            if (++scanned > MaxScanned + limit)
                break;
            if (filter.Matches(roomId, stored.Type, stored.Sender, stored.Content) && checker.MaySee(stored))
            {
                collected.Add(stored);
                if (collected.Count == limit)
                    break;
            }
        }
        return collected;
    }

    /// <summary>For lazy-loading members: each sender's member event as of the first of their events returned.</summary>
    private JsonArray SenderMembers(RoomSnapshot room, IEnumerable<StoredEvent> events, string userId)
    {
        var state = new JsonArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var stored in events)
        {
            if (!seen.Add(stored.Sender) || _events.StateBefore(stored.ShortEventId) is not { } before)
                continue;
            var member = stored.Type == EventTypes.Member && stored.StateKey == stored.Sender
                ? stored
                : _events.StateEventAt(before, EventTypes.Member, stored.Sender);
            if (member is not null)
                state.Add((JsonNode)_rooms.FormatState(member, room, userId));
        }
        return state;
    }

    private JsonArray Format(IEnumerable<StoredEvent> events, RoomSnapshot room, string userId, string deviceId)
    {
        var array = new JsonArray();
        foreach (var stored in events)
            array.Add((JsonNode)_rooms.Format(stored, room, userId, deviceId));
        return array;
    }

    private static long? Min(long? a, long? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);
}
