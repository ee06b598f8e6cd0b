using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Services.Profiles;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Federation;

/// <summary>
/// A resident server's side of the membership handshakes other servers start: <c>make_join</c>/<c>send_join</c>,
/// <c>make_leave</c>/<c>send_leave</c>, <c>make_knock</c>/<c>send_knock</c>, and the invited server's side of
/// <c>invite</c> (for rooms this server is in or not). An event sent back goes through the inbound checks
/// into the room, then on to the room's other servers: its own server talks only to this one.
/// </summary>
public sealed class FederationMemberships(
    RoomEvents events,
    FederationRooms rooms,
    InboundPdus inbound,
    MembershipService memberships,
    FederationSender sender,
    OutOfRoomMemberships outOfRoom,
    ProfileService profiles,
    ServerConfig config,
    TimeProvider time)
{
    /// <summary>
    /// <c>GET /make_join</c>, <c>/make_leave</c> or <c>/make_knock</c>: an unsigned <paramref name="membership"/>
    /// event for <paramref name="userId"/> (a user of <paramref name="origin"/>) built on the room's forward
    /// extremities, with the room version.
    /// </summary>
    /// <param name="supportedVersions">The room versions the server named with <c>ver</c>; null for a leave, which names none.</param>
    /// <exception cref="MatrixException">
    /// 404 for a room unknown here; 400 <c>M_INCOMPATIBLE_ROOM_VERSION</c> when the room's version is not among
    /// <paramref name="supportedVersions"/>; 403 for a user of another server or an event the auth rules refuse
    /// (a banned user, an invite-only room, a knock on a room that does not take knocks).
    /// </exception>
    public async Task<JsonObject> MakeAsync(string membership, string origin, string roomId, string userId, IReadOnlyCollection<string>? supportedVersions, CancellationToken cancellationToken)
    {
        var user = RemoteUser(origin, userId);
        using var append = await events.LockAsync(roomId, cancellationToken) ?? throw FederationRooms.UnknownRoom(roomId);
        var version = append.Version;
        if (supportedVersions is not null && !supportedVersions.Contains(version.Id))
        {
            throw new MatrixException(ErrorCode.IncompatibleRoomVersion, $"The room is of version {version.Id}, which the server does not support.")
            {
                Extra = new JsonObject { ["room_version"] = version.Id },
            };
        }
        if (membership == Membership.Knock && !version.Knocking)
            throw MatrixException.Forbidden($"Room version {version.Id} does not support knocking.");
        var state = append.State;
        var content = new JsonObject { ["membership"] = membership };
        if (membership == Membership.Join)
        {
            var joinRule = JoinRules.Of(state);
            var restricted = (version.RestrictedJoins && joinRule == JoinRules.Restricted)
                || (version.KnockRestrictedJoins && joinRule == JoinRules.KnockRestricted);
            if (restricted && Membership.Of(state, userId) is not (Membership.Invite or Membership.Join))
                content["join_authorised_via_users_server"] = memberships.AuthoriseRestrictedJoin(append, userId);
        }

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
    /// out of the state when <paramref name="omitMembers"/> (the servers in the room named instead, and the
    /// auth chain only of what is returned, without the events the state holds).
    /// </summary>
    /// <exception cref="MatrixException">
    /// 404 for a room unknown here; 400 for an event that is not a join of its sender in this room with this
    /// id; 403 for a sender of another server or a join the checks refuse.
    /// </exception>
    public async Task<JsonObject> SendJoinAsync(string origin, string roomId, string eventId, JsonObject body, bool omitMembers, CancellationToken cancellationToken)
    {
        var (room, join, signed) = await ReceiveAsync(Membership.Join, origin, roomId, eventId, body, cancellationToken);
        var before = events.Snapshots.Load(events.StateBefore(join.ShortEventId) ?? 0);
        var state = events.StateEvents(before).ToList();
        if (omitMembers)
            state.RemoveAll(e => e.Type == EventTypes.Member);
        var chain = rooms.AuthChain(room, [.. state, join]);

        // Events the state carries may be left out of the auth chain (MSC3706); member events the state
        // omits stay in it wherever they authorise what is returned, such as the creator's join.
        if (omitMembers)
        {
            var returned = state.Select(e => e.EventId).ToHashSet(StringComparer.Ordinal);
            chain.RemoveAll(e => returned.Contains(e.EventId));
        }
        var answer = new JsonObject
        {
            ["origin"] = config.ServerName,
            ["state"] = new JsonArray([.. state.Select(e => rooms.Federated(room, e))]),
            ["auth_chain"] = new JsonArray([.. chain.Select(e => rooms.Federated(room, e))]),
            ["members_omitted"] = omitMembers,
            ["servers_in_room"] = new JsonArray([.. rooms.ServersIn(room).Select(s => JsonValue.Create(s))]),
        };
        if (signed)
            answer["event"] = rooms.Federated(room, join);
        return answer;
    }

    /// <summary><c>PUT /v2/send_leave</c>: the leaving server's signed leave goes into the room. 400, 403 and 404 as for a join.</summary>
    public async Task SendLeaveAsync(string origin, string roomId, string eventId, JsonObject body, CancellationToken cancellationToken) =>
        await ReceiveAsync(Membership.Leave, origin, roomId, eventId, body, cancellationToken);

    /// <summary>
    /// <c>PUT /v1/send_knock</c>: the knocking server's signed knock goes into the room; the answer is the
    /// room's stripped state as PDUs (<c>knock_room_state</c>), for the knocking user's client.
    /// </summary>
    public async Task<JsonObject> SendKnockAsync(string origin, string roomId, string eventId, JsonObject body, CancellationToken cancellationToken)
    {
        var (room, _, _) = await ReceiveAsync(Membership.Knock, origin, roomId, eventId, body, cancellationToken);
        return new JsonObject { ["knock_room_state"] = StrippedStatePdus(room) };
    }

    /// <summary>
    /// <c>PUT /v2/invite</c>: another server invites one of our users. The invite is checked (room version
    /// supported, signed by its sender's server, an invite of an active local user by a user of that server),
    /// signed with our key and answered. For a room none of our users is joined to, the invite is kept beside
    /// the rooms with the stripped state it came with, so that the user sees it in <c>/sync</c>; in a room we
    /// are in it arrives again in a transaction, as a room event.
    /// </summary>
    /// <exception cref="MatrixException">
    /// 400 <c>M_INCOMPATIBLE_ROOM_VERSION</c> for a room version not supported here; 400 <c>M_INVALID_PARAM</c>
    /// for anything but a validly signed invite of a local user by the origin's user in this room with this
    /// id, or (room versions with create-event room ids) room state that is not the room's signed events;
    /// 404 for a user who does not exist here.
    /// </exception>
    public async Task<JsonObject> InviteAsync(string origin, string roomId, string eventId, JsonObject body, CancellationToken cancellationToken)
    {
        var versionId = body["room_version"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        if (versionId is null || !RoomVersion.TryGet(versionId, out var version))
        {
            throw new MatrixException(ErrorCode.IncompatibleRoomVersion, $"Room version {versionId} is not supported here.")
            {
                Extra = new JsonObject { ["room_version"] = versionId },
            };
        }
        if (body["event"] is not JsonObject json)
            throw MatrixException.InvalidParam("The request has no event.");
        var pdu = Parse(version, roomId, eventId, json);
        if (pdu.Type != EventTypes.Member || Membership.Read(pdu.Content) != Membership.Invite)
            throw MatrixException.InvalidParam("The event is not an invite.");
        if (pdu.Sender.Server.Value != origin)
            throw MatrixException.InvalidParam($"The invite's sender is not a user of {origin}.");
        if (!UserId.TryParse(pdu.StateKey, out var target) || target.Server.Value != config.ServerName)
            throw MatrixException.InvalidParam("The invited user is not a user of this server.");
        if (await inbound.CheckSignedAsync(pdu, cancellationToken) is null)
            throw MatrixException.InvalidParam("The invite fails its signature check.");
        if (profiles.Find(target) is null)
            throw MatrixException.NotFound($"{target.Value} does not exist here.");

        var signed = EventSigning.AddSignature((JsonObject)json.DeepClone(), version, config.ServerName, events.Keys.SigningKey);
        if (!IsJoinedHere(roomId))
        {
            var stripped = await StrippedAsync(body["invite_room_state"] as JsonArray ?? [], version, roomId, cancellationToken);
            stripped.Add((JsonNode)Stripped(pdu));
            List<string> servers = [origin];
            if (pdu.RoomId.Server is { } roomServer)
                servers.Add(roomServer.Value);
            await outOfRoom.RecordAsync(target.Value, roomId, Membership.Invite, ClientFormat(pdu), stripped, servers);
        }
        return new JsonObject { ["event"] = signed };
    }

    /// <summary>Whether a user of this server is joined to the room, so that it follows the room's events.</summary>
    public bool IsJoinedHere(string roomId) =>
        events.Find(roomId) is { } room
        && events.Members.JoinedServers(room.ShortRoomId).Contains(config.ServerName);

    /// <summary>
    /// The room's stripped state as full events (<c>invite_room_state</c>, <c>knock_room_state</c>): the
    /// create event and the events a client shows a room by.
    /// </summary>
    public JsonArray StrippedStatePdus(RoomSnapshot room)
    {
        var state = new JsonArray();
        foreach (var type in ClientEvents.StrippedStateTypes)
        {
            if (events.StateEvent(room, type, "") is { } stored)
                state.Add((JsonNode)rooms.Federated(room, stored));
        }
        return state;
    }

    /// <summary>The stripped form of a member event sent over federation.</summary>
    public static JsonObject Stripped(Pdu pdu) => new()
    {
        ["type"] = pdu.Type,
        ["state_key"] = pdu.StateKey,
        ["sender"] = pdu.Sender.Value,
        ["content"] = pdu.Content.DeepClone(),
    };

    /// <summary>A member event sent over federation as clients get it outside its room's timeline.</summary>
    public static JsonObject ClientFormat(Pdu pdu)
    {
        var client = Stripped(pdu);
        client["event_id"] = pdu.EventId.Value;
        client["origin_server_ts"] = pdu.OriginServerTs;
        client["room_id"] = pdu.RoomId.Value;
        return client;
    }

    /// <summary>
    /// The stripped state events of a room state given over federation (<c>invite_room_state</c>,
    /// <c>knock_room_state</c>). From room version 12 the state must be the room's events, its create event
    /// among them, each signed (400 <c>M_INVALID_PARAM</c> otherwise); older versions' servers may send the
    /// stripped form itself, which is taken as it comes.
    /// </summary>
    public async Task<JsonArray> StrippedAsync(JsonArray given, RoomVersion version, string roomId, CancellationToken cancellationToken)
    {
        var strict = version.RoomIdFormat == RoomIdFormat.CreateEventHash;
        var stripped = new JsonArray();
        var hasCreate = false;
        foreach (var node in given)
        {
            if (node is not JsonObject json)
                continue;
            if (strict)
            {
                Pdu pdu;
                try
                {
                    pdu = Pdu.Parse((JsonObject)json.DeepClone(), version);
                }
                catch (PduFormatException e)
                {
                    throw MatrixException.InvalidParam($"A room state event is not an event of room version {version.Id}: {e.Message}");
                }
                if (pdu.RoomId.Value != roomId || pdu.StateKey is null)
                    throw MatrixException.InvalidParam("A room state event is not a state event of the room.");
                if (await inbound.CheckSignedAsync(pdu, cancellationToken) is null)
                    throw MatrixException.InvalidParam($"The room state event {pdu.EventId} fails its signature check.");
                hasCreate |= pdu.Type == EventTypes.Create;
                stripped.Add((JsonNode)Stripped(pdu));
            }
            else if (json["type"] is JsonValue type && type.GetValueKind() == JsonValueKind.String
                && json["state_key"] is JsonValue stateKey && stateKey.GetValueKind() == JsonValueKind.String
                && json["content"] is JsonObject content)
            {
                stripped.Add((JsonNode)new JsonObject
                {
                    ["type"] = type.DeepClone(),
                    ["state_key"] = stateKey.DeepClone(),
                    ["sender"] = json["sender"]?.DeepClone(),
                    ["content"] = content.DeepClone(),
                });
            }
        }
        if (strict && !hasCreate)
            throw MatrixException.InvalidParam("The room state has no m.room.create event.");
        return stripped;
    }

    /// <summary>
    /// The membership event a server sent back after <c>make_*</c>: checked for what it must be, signed too
    /// when a restricted join names one of our members as authoriser, through the inbound checks into the
    /// room, then queued for the room's other servers.
    /// </summary>
    private async Task<(RoomSnapshot Room, StoredEvent Event, bool Signed)> ReceiveAsync(
        string membership, string origin, string roomId, string eventId, JsonObject body, CancellationToken cancellationToken)
    {
        var room = events.Find(roomId) ?? throw FederationRooms.UnknownRoom(roomId);
        var pdu = Parse(room.Version, roomId, eventId, body);
        if (pdu.Type != EventTypes.Member || pdu.StateKey != pdu.Sender.Value || Membership.Read(pdu.Content) != membership)
            throw MatrixException.InvalidParam($"The event is not a {membership} of its sender.");
        RemoteUser(origin, pdu.Sender.Value);

        var signed = false;
        if (membership == Membership.Join
            && Membership.StringValue(pdu.Content, "join_authorised_via_users_server") is { } via
            && UserId.TryParse(via, out var authoriser) && authoriser.Server.Value == config.ServerName)
        {
            body = EventSigning.AddSignature((JsonObject)body.DeepClone(), room.Version, config.ServerName, events.Keys.SigningKey);
            signed = true;
        }
        var result = await inbound.ReceiveAsync(origin, body, cancellationToken);
        if (result.Outcome != PduOutcome.Accepted)
            throw MatrixException.Forbidden($"The {membership} was not accepted: {result.Reason}");

        room = events.Find(roomId)!;
        var stored = rooms.EventOfRoom(room, eventId);
        sender.EnqueuePdu(sender.ServersInRoom(roomId).Where(s => s != origin), rooms.Federated(room, stored));
        return (room, stored, signed);
    }

    private static Pdu Parse(RoomVersion version, string roomId, string eventId, JsonObject body)
    {
        Pdu pdu;
        try
        {
            pdu = Pdu.Parse((JsonObject)body.DeepClone(), version);
        }
        catch (PduFormatException e)
        {
            throw MatrixException.InvalidParam(e.Message);
        }
        if (pdu.RoomId.Value != roomId || pdu.EventId.Value != eventId)
            throw MatrixException.InvalidParam("The event's room or id differs from the request's.");
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
}
