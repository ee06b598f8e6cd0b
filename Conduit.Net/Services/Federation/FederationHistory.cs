using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Rooms;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Federation;

/// <summary>
/// Room history between servers. Served: <c>/backfill</c> and <c>/get_missing_events</c>, and what every
/// federation read that returns events may show the requesting server: an event one of its users could
/// see ("Room History Visibility", applied per user of that server) is served whole, any other redacted,
/// so that the DAG stays whole while the content stays hidden. Client side: <see cref="IRoomBackfill"/>,
/// the history before the earliest event here fetched from the room's other servers.
/// </summary>
public sealed class FederationHistory(
    RoomEvents events,
    HistoryVisibility visibility,
    InboundPdus inbound,
    FederationClient client,
    ServerConfig config,
    TimeProvider time,
    ILogger<FederationHistory> logger) : IRoomBackfill
{
    /// <summary>The most events one <c>/backfill</c> answers, whatever the limit asked.</summary>
    public const int MaxBackfill = 100;

    /// <summary>How many events this server asks for per <c>/backfill</c> request.</summary>
    public const int BackfillBatch = 50;

    /// <summary>How many gaps one backfill fills by asking for the state before an event.</summary>
    private const int MaxStateFetches = 5;

    /// <summary>How long "the other servers give nothing before this event" holds when they all answered.</summary>
    public static readonly TimeSpan NothingEarlierFor = TimeSpan.FromMinutes(10);

    /// <summary>How long it holds when a server could not be asked (it may be back soon with more).</summary>
    public static readonly TimeSpan UnreachableFor = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Per room, the earliest event here before which the room's other servers gave nothing new, and until
    /// when to believe it, so paging at the start of what they give is answered here without asking them
    /// all again on every request. In memory with an expiry rather than persisted: what they give can
    /// change (a server that was down comes back, one with older history joins), so the answer is worth
    /// asking again after a while, and a restart asking once more costs one round.
    /// </summary>
    private readonly ConcurrentDictionary<string, (string EventId, DateTimeOffset Until)> _nothingEarlier = new(StringComparer.Ordinal);

    private static readonly string[] Memberships = [Membership.Join, Membership.Invite, Membership.Leave, Membership.Ban, Membership.Knock];

    /// <summary>
    /// The room, for a server that may read it: one with a joined member, or any server when the room's
    /// history is world-readable. 404 for a room unknown here, 403 otherwise.
    /// </summary>
    public RoomSnapshot ReadableRoom(string origin, string roomId)
    {
        var room = events.Find(roomId) ?? throw MatrixException.NotFound($"This server does not know room {roomId}.");
        EnsureMayRead(origin, room);
        return room;
    }

    /// <inheritdoc cref="ReadableRoom"/>
    public void EnsureMayRead(string origin, RoomSnapshot room)
    {
        var hasMember = events.Members.JoinedServers(room.ShortRoomId).Contains(origin);
        if (!hasMember && visibility.VisibilityAt(room.StateHash) != HistoryVisibility.WorldReadable)
            throw MatrixException.Forbidden($"{origin} has no member in room {room.RoomId}.");
    }

    /// <summary>A checker of what <paramref name="origin"/> may see of <paramref name="room"/>'s events.</summary>
    public ServerChecker ForServer(string origin, RoomSnapshot room) =>
        new(events, visibility, room, () => Memberships
            .SelectMany(membership => events.Members.Members(room.ShortRoomId, membership))
            .Where(user => ServerOf(user) == origin)
            .Distinct(StringComparer.Ordinal));

    /// <summary>The event as a PDU for a server: its federation form, redacted when the server may not see it.</summary>
    public JsonObject Served(RoomSnapshot room, StoredEvent stored, ServerChecker checker)
    {
        var json = (JsonObject)events.ToPdu(stored, room.Version).Json.DeepClone();
        json.Remove("unsigned");
        return checker.MaySee(stored) ? json : Redaction.Redact(json, room.Version);
    }

    /// <summary>
    /// <c>GET /backfill</c>: the events <paramref name="from"/> and those before them, walking
    /// <c>prev_events</c> deepest first, newest first, up to <paramref name="limit"/>, as a transaction.
    /// </summary>
    public JsonObject Backfill(string origin, string roomId, IReadOnlyList<string> from, int limit)
    {
        var room = ReadableRoom(origin, roomId);
        var checker = ForServer(origin, room);
        limit = Math.Clamp(limit, 0, MaxBackfill);
        var found = new List<StoredEvent>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new PriorityQueue<StoredEvent, (long, long)>();
        foreach (var eventId in from)
        {
            if (seen.Add(eventId) && TimelineEvent(room, eventId) is { } stored)
                pending.Enqueue(stored, Newest(room, stored));
        }
        while (found.Count < limit && pending.TryDequeue(out var current, out _))
        {
            found.Add(current);
            foreach (var prev in events.ToPdu(current, room.Version).PrevEvents)
            {
                if (seen.Add(prev.Value) && TimelineEvent(room, prev.Value) is { } parent)
                    pending.Enqueue(parent, Newest(room, parent));
            }
        }
        return new JsonObject
        {
            ["origin"] = config.ServerName,
            ["origin_server_ts"] = time.GetUtcNow().ToUnixTimeMilliseconds(),
            ["pdus"] = new JsonArray([.. found.Select(e => (JsonNode)Served(room, e, checker))]),
        };
    }

    /// <summary>
    /// <c>POST /get_missing_events</c>: a breadth-first walk of the <c>prev_events</c> of
    /// <paramref name="latest"/>, neither returning nor walking past <paramref name="earliest"/>, skipping
    /// events shallower than <paramref name="minDepth"/>, up to <paramref name="limit"/> events, oldest first.
    /// </summary>
    public JsonObject GetMissingEvents(string origin, string roomId, IReadOnlyList<string> earliest, IReadOnlyList<string> latest, int limit, long minDepth)
    {
        var room = ReadableRoom(origin, roomId);
        var checker = ForServer(origin, room);
        limit = Math.Clamp(limit, 0, MaxBackfill);
        var seen = new HashSet<string>(earliest.Concat(latest), StringComparer.Ordinal);
        var queue = new Queue<StoredEvent>(latest.Select(id => TimelineEvent(room, id)).OfType<StoredEvent>());
        var found = new List<(StoredEvent Event, long Depth)>();
        while (found.Count < limit && queue.TryDequeue(out var current))
        {
            foreach (var prev in events.ToPdu(current, room.Version).PrevEvents)
            {
                if (found.Count >= limit || !seen.Add(prev.Value) || TimelineEvent(room, prev.Value) is not { } parent)
                    continue;
                var depth = events.ToPdu(parent, room.Version).Depth;
                if (depth < minDepth)
                    continue;
                found.Add((parent, depth));
                queue.Enqueue(parent);
            }
        }
        var ordered = found.OrderBy(e => e.Depth).ThenBy(e => e.Event.Position).Select(e => (JsonNode)Served(room, e.Event, checker));
        return new JsonObject { ["events"] = new JsonArray([.. ordered]) };
    }

    /// <summary>
    /// Asks the room's other servers, one after the other until one answers with something new, for the
    /// events before the earliest one here, checks them as history and stores them before it.
    /// </summary>
    public async Task<bool> BackfillAsync(RoomSnapshot room, CancellationToken cancellationToken)
    {
        var earliest = events.Timeline.Range(room.ShortRoomId, null, null, newestFirst: false).FirstOrDefault();
        if (earliest is null || (earliest.Type == EventTypes.Create && earliest.StateKey == ""))
            return false;
        if (_nothingEarlier.TryGetValue(room.RoomId, out var known))
        {
            if (known.EventId == earliest.EventId && known.Until > time.GetUtcNow())
                return false;
            _nothingEarlier.TryRemove(new KeyValuePair<string, (string, DateTimeOffset)>(room.RoomId, known));
        }
        var candidates = events.Members.JoinedServers(room.ShortRoomId)
            .Where(server => server != config.ServerName)
            .OrderBy(server => server == ServerOf(earliest.Sender) ? 0 : 1)
            .ThenBy(server => server, StringComparer.Ordinal);
        var unreachable = false;
        foreach (var server in candidates)
        {
            try
            {
                if (await BackfillFromAsync(server, room, earliest, cancellationToken))
                    return true;
            }
            catch (Exception e) when (e is FederationException or MatrixException)
            {
                unreachable = true;
                logger.LogInformation("Backfilling {RoomId} from {Server} failed: {Error}", room.RoomId, server, e.Message);
            }
        }
        _nothingEarlier[room.RoomId] = (earliest.EventId, time.GetUtcNow() + (unreachable ? UnreachableFor : NothingEarlierFor));
        return false;
    }

    private async Task<bool> BackfillFromAsync(string server, RoomSnapshot room, StoredEvent earliest, CancellationToken cancellationToken)
    {
        var path = $"/_matrix/federation/v1/backfill/{Uri.EscapeDataString(room.RoomId)}?v={Uri.EscapeDataString(earliest.EventId)}&limit={BackfillBatch}";
        var answer = await client.GetAsync(server, path, cancellationToken);
        var fetched = new Dictionary<string, Pdu>(StringComparer.Ordinal);
        foreach (var json in (answer["pdus"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (ParseOfRoom(room, json) is { } pdu && !IsTimelineEvent(pdu.EventId.Value) && await inbound.CheckSignedAsync(pdu, cancellationToken) is { } checkedPdu)
                fetched.TryAdd(checkedPdu.EventId.Value, checkedPdu);
        }
        if (fetched.Count == 0)
            return false;

        var ordered = OldestFirst(fetched);
        var gaps = new Dictionary<string, RemoteState>(StringComparer.Ordinal);
        foreach (var pdu in ordered.Where(p => p.PrevEvents.Any(prev => !fetched.ContainsKey(prev.Value) && !IsTimelineEvent(prev.Value))).Take(MaxStateFetches))
        {
            if (await StateBeforeAsync(server, room, pdu, cancellationToken) is { } state)
                gaps[pdu.EventId.Value] = state;
        }

        using var append = await events.LockAsync(room.RoomId, cancellationToken);
        if (append?.Room is not { } current)
            return false;
        var first = events.Timeline.Range(current.ShortRoomId, null, null, newestFirst: false).FirstOrDefault();

        // Another request stored earlier history meanwhile: the page goes on with that.
        if (first is not null && first.EventId != earliest.EventId)
            return true;
        var position = Math.Min(first?.Position ?? 0, 0) - 1 - ordered.Count;
        var stored = 0;
        foreach (var pdu in ordered)
        {
            position++;
            if (IsTimelineEvent(pdu.EventId.Value, append.Write) || Placement(append, pdu, gaps) is not { } placement)
                continue;
            if (pdu.AuthEvents.Any(id => events.Ids.FindEvent(id.Value, append.Write) is not { } authId || events.Timeline.GetAny(authId, append.Write) is null))
            {
                logger.LogInformation("Backfilled event {EventId} from {Server} has auth events unknown here: left out", pdu.EventId, server);
                continue;
            }
            var auth = inbound.AuthorizeHistory(pdu, append, placement);
            if (!auth.IsAllowed)
                logger.LogInformation("Backfilled event {EventId} from {Server} is rejected: {Reason}", pdu.EventId, server, auth.Reason);
            append.AppendBackfilled(pdu, placement, position, rejected: !auth.IsAllowed);
            stored++;
        }
        if (stored > 0)
            await append.CommitAsync();
        logger.LogDebug("Backfilled {Count} events of {RoomId} from {Server}", stored, room.RoomId, server);
        return stored > 0;
    }

    /// <summary>
    /// The state before a backfilled event: the state another server answered for a gap, else the
    /// resolution of its prev_events' states, once they are all in the timeline here; null when they are not.
    /// </summary>
    private static EventPlacement? Placement(RoomAppend append, Pdu pdu, Dictionary<string, RemoteState> gaps)
    {
        var events = append.Events;
        if (gaps.TryGetValue(pdu.EventId.Value, out var remote))
        {
            foreach (var outlier in remote.Outliers)
                append.AppendOutlier(outlier);
            var set = StateSet.FromUnsorted(remote.State.Select(e => new StateEntry(
                events.Ids.GetOrCreateStateKey(e.Type, e.StateKey!, append.Write),
                events.Ids.FindEvent(e.EventId.Value, append.Write)!.Value)));
            return new EventPlacement([], events.Snapshots.Save(set, 0, StateSet.Empty, append.Write), set);
        }
        if (pdu.PrevEvents.Count == 0)
            return new EventPlacement([], 0, StateSet.Empty);
        var prevs = new List<ulong>();
        foreach (var prev in pdu.PrevEvents)
        {
            if (events.Ids.FindEvent(prev.Value, append.Write) is not { } shortEventId || !IsInTimeline(events, shortEventId, append.Write))
                return null;
            prevs.Add(shortEventId);
        }
        return append.PlaceAfter([.. prevs.Distinct()]);
    }

    /// <summary>
    /// <c>GET /state</c> before <paramref name="pdu"/> from <paramref name="server"/>: its state events
    /// and their auth chain, checked.
    /// </summary>
    private async Task<RemoteState?> StateBeforeAsync(string server, RoomSnapshot room, Pdu pdu, CancellationToken cancellationToken)
    {
        var path = $"/_matrix/federation/v1/state/{Uri.EscapeDataString(room.RoomId)}?event_id={Uri.EscapeDataString(pdu.EventId.Value)}";
        JsonObject answer;
        try
        {
            answer = await client.GetAsync(server, path, cancellationToken);
        }
        catch (FederationException e)
        {
            logger.LogInformation("The state before {EventId} from {Server} is unavailable: {Error}", pdu.EventId, server, e.Message);
            return null;
        }
        var chain = new List<Pdu>();
        foreach (var json in (answer["auth_chain"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (ParseOfRoom(room, json) is { } parsed && await inbound.CheckSignedAsync(parsed, cancellationToken) is { } checkedPdu)
                chain.Add(checkedPdu);
        }
        var state = new List<Pdu>();
        foreach (var json in (answer["pdus"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (ParseOfRoom(room, json) is { IsState: true } parsed && await inbound.CheckSignedAsync(parsed, cancellationToken) is { } checkedPdu)
                state.Add(checkedPdu);
        }
        var outliers = new Dictionary<string, Pdu>(StringComparer.Ordinal);
        foreach (var outlier in chain.Concat(state))
            outliers.TryAdd(outlier.EventId.Value, outlier);
        return new RemoteState(OldestFirst(outliers), state);
    }

    /// <summary>
    /// Events in an order where each comes after those of its prev_events and auth_events among them
    /// (depth, then timestamp and id, breaking ties).
    /// </summary>
    private static List<Pdu> OldestFirst(Dictionary<string, Pdu> pdus)
    {
        var ordered = new List<Pdu>(pdus.Count);
        var placed = new HashSet<string>(StringComparer.Ordinal);
        var remaining = pdus.Values.OrderBy(p => p.Depth).ThenBy(p => p.OriginServerTs).ThenBy(p => p.EventId.Value, StringComparer.Ordinal).ToList();
        while (remaining.Count > 0)
        {
            var ready = remaining.FirstOrDefault(p => p.PrevEvents.Concat(p.AuthEvents).All(id => !pdus.ContainsKey(id.Value) || placed.Contains(id.Value)))
                ?? remaining[0];
            ordered.Add(ready);
            placed.Add(ready.EventId.Value);
            remaining.Remove(ready);
        }
        return ordered;
    }

    private static Pdu? ParseOfRoom(RoomSnapshot room, JsonObject json)
    {
        try
        {
            var pdu = Pdu.Parse((JsonObject)json.DeepClone(), room.Version);
            return pdu.RoomId.Value == room.RoomId ? pdu : null;
        }
        catch (PduFormatException)
        {
            return null;
        }
    }

    private bool IsTimelineEvent(string eventId, RoomWrite? write = null) =>
        events.Ids.FindEvent(eventId, write) is { } shortEventId && IsInTimeline(events, shortEventId, write);

    /// <summary>Whether the event is in a timeline here (an outlier's state is not known; a rejected event counts as placed).</summary>
    private static bool IsInTimeline(RoomEvents events, ulong shortEventId, RoomWrite? write) =>
        events.Timeline.GetHidden(shortEventId, write) is { } hidden
            ? hidden.Outcome != HiddenOutcome.Outlier
            : events.Timeline.Get(shortEventId, write) is not null;

    /// <summary>A timeline event of the room (soft-failed, rejected and unknown ones are never served).</summary>
    private StoredEvent? TimelineEvent(RoomSnapshot room, string eventId) =>
        events.Ids.FindEvent(eventId) is { } shortEventId
        && events.Timeline.Get(shortEventId) is { } stored
        && stored.ShortRoomId == room.ShortRoomId
            ? stored
            : null;

    /// <summary>Priority of a backfill walk: deepest first, then latest stored (the queue dequeues the smallest).</summary>
    private (long, long) Newest(RoomSnapshot room, StoredEvent stored) => (-events.ToPdu(stored, room.Version).Depth, -stored.Position);

    private static string? ServerOf(string userId) => UserId.TryParse(userId, out var user) ? user.Server.Value : null;

    /// <summary>The state before an event as another server answered it, and every event to store for it, oldest first.</summary>
    private sealed record RemoteState(IReadOnlyList<Pdu> Outliers, IReadOnlyList<Pdu> State);

    /// <summary>
    /// Whether a server may see an event: whether one of its users with a membership in the room could
    /// (their memberships at the event, the room's history visibility then, and later joins).
    /// </summary>
    public sealed class ServerChecker
    {
        private readonly RoomEvents _events;
        private readonly HistoryVisibility _visibility;
        private readonly Lazy<List<HistoryVisibility.Checker>> _users;

        /// <param name="users">The server's users with a membership in the room, read only when world-readability does not decide.</param>
        internal ServerChecker(RoomEvents events, HistoryVisibility visibility, RoomSnapshot room, Func<IEnumerable<string>> users)
        {
            _events = events;
            _visibility = visibility;
            _users = new(() => [.. users().Select(user => visibility.ForUser(user, room))]);
        }

        public bool MaySee(StoredEvent stored)
        {
            if (_events.StateBefore(stored.ShortEventId) is { } before && _visibility.VisibilityAt(before) == HistoryVisibility.WorldReadable)
                return true;
            return _users.Value.Any(user => user.MaySee(stored));
        }
    }
}
