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
/// A resident server's side of the room endpoints other servers call: the join handshake's first half
/// (<c>make_join</c>), the room's state and auth chains at an event, single events, and alias queries.
/// Every read is for a server that has a joined member in the room, unless its history is world-readable,
/// and shows it the events its users could see, the others redacted (<see cref="FederationHistory"/>).
/// </summary>
public sealed class FederationRooms(
    RoomEvents events,
    InboundPdus inbound,
    MembershipService memberships,
    RoomAliases aliases,
    FederationHistory history,
    ServerConfig config,
    TimeProvider time)
{
    /// <summary>
    /// <c>GET /make_join</c>: an unsigned join event for <paramref name="userId"/> (a user of
    /// <paramref name="origin"/>) built on the room's forward extremities, with the room version.
    /// </summary>
    /// <param name="supportedVersions">The room versions the joining server named with <c>ver</c> (<c>1</c> when it named none).</param>
    /// <exception cref="MatrixException">
    /// 404 for a room unknown here; 400 <c>M_INCOMPATIBLE_ROOM_VERSION</c> when the room's version is not among
    /// <paramref name="supportedVersions"/>; 403 for a user of another server or a join the auth rules refuse.
    /// </exception>
    public async Task<JsonObject> MakeJoinAsync(string origin, string roomId, string userId, IReadOnlyCollection<string> supportedVersions, CancellationToken cancellationToken)
    {
        var user = RemoteUser(origin, userId);
        using var append = await events.LockAsync(roomId, cancellationToken) ?? throw UnknownRoom(roomId);
        var version = append.Version;
        if (!supportedVersions.Contains(version.Id))
        {
            throw new MatrixException(ErrorCode.IncompatibleRoomVersion, $"The room is of version {version.Id}, which the joining server does not support.")
            {
                Extra = new JsonObject { ["room_version"] = version.Id },
            };
        }
        var state = append.State;
        var content = new JsonObject { ["membership"] = Membership.Join };
        var joinRule = JoinRules.Of(state);
        var restricted = (version.RestrictedJoins && joinRule == JoinRules.Restricted)
            || (version.KnockRestrictedJoins && joinRule == JoinRules.KnockRestricted);
        var current = Membership.Of(state, userId);
        if (restricted && current is not (Membership.Invite or Membership.Join))
            content["join_authorised_via_users_server"] = memberships.AuthoriseRestrictedJoin(append, userId);

        var room = append.Room!;
        var template = PduBuilder.Build(
            version,
            new PduTemplate
            {
                Type = EventTypes.Member,
                StateKey = userId,
                Sender = user,
                Content = content,
                RoomId = RoomId.Parse(roomId),
                OriginServerTs = time.GetUtcNow().ToUnixTimeMilliseconds(),
            },
            [.. room.Extremities.Select(id => events.ToPdu(events.Timeline.Get(id)!, version))],
            AuthEventsSelection.Select(EventTypes.Member, userId, user, content, version, state),
            events.Origin,
            events.Keys.SigningKey);

        // The restricted-join signature is only checked once the joining server sends the event back.
        EventAuth.Check(template, state, (_, _) => true).EnsureAllowed();

        var json = (JsonObject)template.Json.DeepClone();
        foreach (var field in (string[])["event_id", "hashes", "signatures", "unsigned"])
            json.Remove(field);
        json["origin"] = origin;
        return new JsonObject { ["room_version"] = version.Id, ["event"] = json };
    }

    /// <summary>
    /// <c>PUT /v2/send_join</c>: the joining server's signed join goes through the inbound checks into the
    /// room; the answer is the state before it and the auth chain of both, with the member events left
    /// out of the state when <paramref name="omitMembers"/> (the servers in the room named instead).
    /// </summary>
    /// <exception cref="MatrixException">
    /// 404 for a room unknown here; 400 for an event that is not a join of its sender in this room with this
    /// id; 403 for a sender of another server or a join the checks refuse.
    /// </exception>
    public async Task<JsonObject> SendJoinAsync(string origin, string roomId, string eventId, JsonObject body, bool omitMembers, CancellationToken cancellationToken)
    {
        var room = events.Find(roomId) ?? throw UnknownRoom(roomId);
        var pdu = ParseMembership(room.Version, roomId, eventId, body, Membership.Join);
        RemoteUser(origin, pdu.Sender.Value);

        // A restricted join names one of our members as its authoriser: the event needs our signature too.
        var signed = false;
        if (Membership.StringValue(pdu.Content, "join_authorised_via_users_server") is { } via
            && UserId.TryParse(via, out var authoriser) && authoriser.Server.Value == config.ServerName)
        {
            body = EventSigning.AddSignature((JsonObject)body.DeepClone(), room.Version, config.ServerName, events.Keys.SigningKey);
            signed = true;
        }
        var result = await inbound.ReceiveAsync(origin, body, cancellationToken);
        if (result.Outcome != PduOutcome.Accepted)
            throw MatrixException.Forbidden($"The join was not accepted: {result.Reason}");

        room = events.Find(roomId)!;
        var join = EventOfRoom(room, eventId);
        var before = events.Snapshots.Load(events.StateBefore(join.ShortEventId) ?? 0);
        var state = events.StateEvents(before).ToList();
        var chain = AuthChain(room, [.. state, join]);
        if (omitMembers)
        {
            var inState = state.Select(e => e.EventId).ToHashSet(StringComparer.Ordinal);
            state.RemoveAll(e => e.Type == EventTypes.Member);
            chain.RemoveAll(e => inState.Contains(e.EventId));
        }
        var answer = new JsonObject
        {
            ["origin"] = config.ServerName,
            ["state"] = new JsonArray([.. state.Select(e => Federated(room, e))]),
            ["auth_chain"] = new JsonArray([.. chain.Select(e => Federated(room, e))]),
            ["members_omitted"] = omitMembers,
            ["servers_in_room"] = new JsonArray([.. ServersIn(room).Select(s => JsonValue.Create(s))]),
        };
        if (signed)
            answer["event"] = Federated(room, join);
        return answer;
    }

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
    public IEnumerable<string> ServersIn(RoomSnapshot room) =>
        events.Members.Members(room.ShortRoomId, Membership.Join)
            .Select(member => UserId.TryParse(member, out var parsed) ? parsed.Server.Value : null)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal);

    private StoredEvent EventOfRoom(RoomSnapshot room, string eventId) =>
        events.Ids.FindEvent(eventId) is { } shortEventId
        && events.Timeline.Get(shortEventId) is { } stored
        && stored.ShortRoomId == room.ShortRoomId
            ? stored
            : throw MatrixException.NotFound($"Event {eventId} is not in room {room.RoomId}.");

    /// <summary>The auth events of <paramref name="start"/>, theirs, and so on, each once, in the order met.</summary>
    private List<StoredEvent> AuthChain(RoomSnapshot room, IEnumerable<StoredEvent> start)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var chain = new List<StoredEvent>();
        var pending = new Stack<StoredEvent>(start);
        while (pending.TryPop(out var current))
        {
            foreach (var authId in events.ToPdu(current, room.Version).AuthEvents)
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
    private JsonObject Federated(RoomSnapshot room, StoredEvent stored)
    {
        var json = (JsonObject)events.ToPdu(stored, room.Version).Json.DeepClone();
        json.Remove("unsigned");
        return json;
    }

    /// <summary>The membership event a remote server sent, checked for what its room, id and kind must be.</summary>
    private static Pdu ParseMembership(RoomVersion version, string roomId, string eventId, JsonObject body, string membership)
    {
        Pdu pdu;
        try
        {
            pdu = Pdu.Parse((JsonObject)body.DeepClone(), version);
        }
        catch (PduFormatException e)
        {
            throw MatrixException.BadJson(e.Message);
        }
        if (pdu.RoomId.Value != roomId || pdu.EventId.Value != eventId)
            throw MatrixException.BadJson("The event's room or id differs from the request's.");
        if (pdu.Type != EventTypes.Member || pdu.StateKey != pdu.Sender.Value || Membership.Read(pdu.Content) != membership)
            throw MatrixException.BadJson($"The event is not a {membership} of its sender.");
        return pdu;
    }

    private static UserId RemoteUser(string origin, string userId)
    {
        if (!UserId.TryParse(userId, out var user))
            throw MatrixException.InvalidParam($"\"{userId}\" is not a valid user id.");
        if (user.Server.Value != origin)
            throw MatrixException.Forbidden($"{origin} cannot act for {userId}.");
        return user;
    }

    private static MatrixException UnknownRoom(string roomId) => MatrixException.NotFound($"This server does not know room {roomId}.");
}
