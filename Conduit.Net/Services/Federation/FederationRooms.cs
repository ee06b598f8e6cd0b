using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Federation;

/// <summary>
/// A resident server's side of the room endpoints other servers call to read: the room's state and auth
/// chains at an event, single events, and alias queries (memberships are <see cref="FederationMemberships"/>').
/// Every read is for a server that has a joined member in the room, unless its history is world-readable,
/// and shows it the events its users could see, the others redacted (<see cref="FederationHistory"/>).
/// </summary>
public sealed class FederationRooms(
    RoomEvents events,
    RoomAliases aliases,
    FederationHistory history,
    ServerConfig config,
    TimeProvider time)
{
    /// <summary>
    /// <c>GET /state</c> (<paramref name="idsOnly"/> false) or <c>/state_ids</c>: the room's state before
    /// <paramref name="eventId"/> and the auth chain of that state.
    /// </summary>
    public JsonObject StateAt(string origin, string roomId, string eventId, bool idsOnly)
    {
        var room = history.ReadableRoom(origin, roomId);
        var stored = EventOfRoom(room, eventId);
        var before = events.Snapshots.Load(events.StateBefore(stored.ShortEventId) ?? 0);
        var state = events.StateEvents(before).ToList();
        var chain = AuthChain(room, state);
        var checker = history.ForServer(origin, room);

        // Ids alone show nothing that visibility hides (a redacted event keeps its id).
        return idsOnly
            ? new JsonObject
            {
                ["pdu_ids"] = new JsonArray([.. state.Select(e => JsonValue.Create(e.EventId))]),
                ["auth_chain_ids"] = new JsonArray([.. chain.Select(e => JsonValue.Create(e.EventId))]),
            }
            : new JsonObject
            {
                ["pdus"] = new JsonArray([.. state.Select(e => (JsonNode)history.Served(room, e, checker))]),
                ["auth_chain"] = new JsonArray([.. chain.Select(e => (JsonNode)history.Served(room, e, checker))]),
            };
    }

    /// <summary><c>GET /event_auth</c>: every event in the auth chain of <paramref name="eventId"/>.</summary>
    public JsonObject EventAuthChain(string origin, string roomId, string eventId)
    {
        var room = history.ReadableRoom(origin, roomId);
        var stored = EventOfRoom(room, eventId);
        var checker = history.ForServer(origin, room);
        return new JsonObject { ["auth_chain"] = new JsonArray([.. AuthChain(room, [stored]).Select(e => (JsonNode)history.Served(room, e, checker))]) };
    }

    /// <summary><c>GET /event</c>: one event, as a transaction of one PDU, for a server that may read its room.</summary>
    public JsonObject Event(string origin, string eventId)
    {
        if (events.Ids.FindEvent(eventId) is not { } shortEventId || events.Timeline.Get(shortEventId) is not { } stored)
            throw MatrixException.NotFound($"Event {eventId} not found.");
        var room = (stored.Root.TryGetProperty("room_id", out var roomId) ? events.Find(roomId.GetString() ?? "") : null)
            ?? throw MatrixException.NotFound($"Event {eventId} not found.");
        history.EnsureMayRead(origin, room);
        return new JsonObject
        {
            ["origin"] = config.ServerName,
            ["origin_server_ts"] = time.GetUtcNow().ToUnixTimeMilliseconds(),
            ["pdus"] = new JsonArray(history.Served(room, stored, history.ForServer(origin, room))),
        };
    }

    /// <summary><c>GET /query/directory</c>: the room a local alias names and the servers that can help join it.</summary>
    public JsonObject QueryDirectory(string alias)
    {
        var (roomId, _) = aliases.Resolve(alias);
        var servers = new List<string> { config.ServerName };
        if (events.Find(roomId) is { } room)
            servers.AddRange(ServersIn(room).Where(s => s != config.ServerName).Order(StringComparer.Ordinal));
        return new JsonObject { ["room_id"] = roomId, ["servers"] = new JsonArray([.. servers.Select(s => JsonValue.Create(s))]) };
    }

    /// <summary>The servers with a joined member in the room.</summary>
    public IEnumerable<string> ServersIn(RoomSnapshot room) => events.Members.JoinedServers(room.ShortRoomId);

    internal StoredEvent EventOfRoom(RoomSnapshot room, string eventId) =>
        events.Ids.FindEvent(eventId) is { } shortEventId
        && events.Timeline.Get(shortEventId) is { } stored
        && stored.ShortRoomId == room.ShortRoomId
            ? stored
            : throw MatrixException.NotFound($"Event {eventId} is not in room {room.RoomId}.");

    /// <summary>
    /// The auth events of <paramref name="start"/>, theirs, and so on, each once, in the order met. From
    /// room version 12 on, events do not list the create event (the room id names it), yet every event
    /// but the create event itself is authorised by it, so the chain holds it too.
    /// </summary>
    internal List<StoredEvent> AuthChain(RoomSnapshot room, IEnumerable<StoredEvent> start)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var chain = new List<StoredEvent>();
        var pending = new Stack<StoredEvent>(start);
        while (pending.TryPop(out var current))
        {
            var pdu = events.ToPdu(current, room.Version);
            IEnumerable<EventId> authIds = pdu.AuthEvents;
            if (!room.Version.CreateEventInAuthEvents && !(pdu.Type == EventTypes.Create && pdu.StateKey == ""))
                authIds = authIds.Append(EventIds.CreateEventIdOf(pdu.RoomId));
            foreach (var authId in authIds)
            {
                if (!seen.Add(authId.Value)
                    || events.Ids.FindEvent(authId.Value) is not { } shortEventId
                    || events.Timeline.GetAny(shortEventId) is not { } authEvent)
                    continue;
                chain.Add(authEvent);
                pending.Push(authEvent);
            }
        }
        return chain;
    }

    /// <summary>The event as a PDU: its federation form without what this server added under <c>unsigned</c>.</summary>
    internal JsonObject Federated(RoomSnapshot room, StoredEvent stored)
    {
        var json = (JsonObject)events.ToPdu(stored, room.Version).Json.DeepClone();
        json.Remove("unsigned");
        return json;
    }

    internal static MatrixException UnknownRoom(string roomId) => MatrixException.NotFound($"This server does not know room {roomId}.");
}
