using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Services.Rooms;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Federation;

/// <summary>
/// Membership changes as clients ask for them, where another server must take part. In a room a user of
/// this server is joined to, joins, leaves and knocks are ordinary local events (sent out like any other).
/// Otherwise they go through a resident server: the room's servers the client named, the alias's, the
/// invite's and the room's own, each tried in turn with <c>make_*</c>, the event built and signed here and
/// sent back with <c>send_*</c>. A join then checks the answered state and auth chain (signatures, hashes,
/// the auth rules against their auth events) and stores the room with the join as its newest timeline event;
/// a knock or a leave is kept as an out-of-room membership. Inviting a user of another server sends the
/// invite to their server to sign, then appends it through the inbound checks and sends it to the room.
/// </summary>
public sealed class RemoteMemberships(
    RoomEvents events,
    RoomService rooms,
    MembershipService memberships,
    AliasResolver aliasResolver,
    InboundPdus inbound,
    FederationClient federation,
    FederationMemberships served,
    FederationSender sender,
    OutOfRoomMemberships outOfRoom,
    ServerConfig config,
    TimeProvider time,
    ILogger<RemoteMemberships> logger)
{
    private static readonly string VersionQuery = string.Join("&", RoomVersion.Supported.Select(v => "ver=" + Uri.EscapeDataString(v.Id)));

    /// <summary>Joins a room named by id or alias, through <paramref name="via"/> when this server is not in it; returns the room id.</summary>
    public async Task<string> JoinAsync(string userId, string roomIdOrAlias, string? reason, IReadOnlyList<string> via, CancellationToken cancellationToken)
    {
        if (await ResolveAsync(userId, roomIdOrAlias, via, cancellationToken) is not { } resolved)
            return await memberships.JoinAsync(userId, roomIdOrAlias, reason, cancellationToken);
        var (roomId, servers) = resolved;
        await ThroughAsync(servers, roomId, "join", async server =>
        {
            var (version, join, sent) = await HandshakeAsync(server, Membership.Join, userId, roomId, reason, cancellationToken);
            await StoreJoinAsync(server, roomId, version, join, sent, cancellationToken);
        });
        return roomId;
    }

    /// <summary>Knocks on a room named by id or alias, through <paramref name="via"/> when this server is not in it; returns the room id.</summary>
    public async Task<string> KnockAsync(string userId, string roomIdOrAlias, string? reason, IReadOnlyList<string> via, CancellationToken cancellationToken)
    {
        if (await ResolveAsync(userId, roomIdOrAlias, via, cancellationToken) is not { } resolved)
            return await memberships.KnockAsync(userId, roomIdOrAlias, reason, cancellationToken);
        var (roomId, servers) = resolved;
        await ThroughAsync(servers, roomId, "knock", async server =>
        {
            var (version, knock, sent) = await HandshakeAsync(server, Membership.Knock, userId, roomId, reason, cancellationToken);
            JsonArray state;
            try
            {
                state = await served.StrippedAsync(sent["knock_room_state"] as JsonArray ?? [], version, roomId, cancellationToken);
            }
            catch (MatrixException e)
            {
                throw new FederationException(server, null, sent, $"{server} answered send_knock with invalid room state: {e.Message}");
            }
            state.Add((JsonNode)FederationMemberships.Stripped(knock));
            await outOfRoom.RecordAsync(userId, roomId, Membership.Knock, FederationMemberships.ClientFormat(knock), state, servers);
        });
        return roomId;
    }

    /// <summary>
    /// Leaves a room, rejects an invite or retracts a knock: through a resident server when no user of this
    /// server is joined to the room and it knows a server that could be.
    /// </summary>
    public async Task LeaveAsync(string userId, string roomId, string? reason, CancellationToken cancellationToken)
    {
        var servers = served.IsJoinedHere(roomId) ? [] : CandidateServers(userId, roomId, []);
        if (servers.Count == 0)
        {
            await memberships.LeaveAsync(userId, roomId, reason, cancellationToken);
            return;
        }
        await ThroughAsync(servers, roomId, "leave", async server =>
        {
            var (_, leave, _) = await HandshakeAsync(server, Membership.Leave, userId, roomId, reason, cancellationToken);
            await outOfRoom.RecordAsync(userId, roomId, Membership.Leave, FederationMemberships.ClientFormat(leave), [], servers);
        });
    }

    /// <summary>
    /// Invites a user (<c>POST /rooms/{roomId}/invite</c>): a user of this server with a local event; a user of
    /// another server with the invite built here, signed by their server through <c>PUT /v2/invite</c>, then
    /// appended and sent to the room's servers. Inviting someone already invited sends nothing.
    /// </summary>
    public async Task InviteAsync(string userId, string roomId, string target, string? reason, bool isDirect, CancellationToken cancellationToken)
    {
        if (!UserId.TryParse(target, out var targetUser))
            throw MatrixException.InvalidParam($"\"{target}\" is not a valid user id.");
        if (targetUser.Server.Value == config.ServerName)
        {
            await memberships.InviteAsync(userId, roomId, target, reason, cancellationToken);
            return;
        }

        Pdu invite;
        JsonArray roomState;
        RoomVersion version;
        using (var append = await events.LockAsync(roomId, cancellationToken) ?? throw RoomService.NotInRoom())
        {
            if (Membership.Of(append.State, target) == Membership.Invite)
                return;
            var content = new JsonObject { ["membership"] = Membership.Invite };
            if (!string.IsNullOrEmpty(reason))
                content["reason"] = reason;
            if (isDirect)
                content["is_direct"] = true;
            invite = append.Prepare(new EventDraft(EventTypes.Member, target, userId, content));
            version = append.Version;
            roomState = served.StrippedStatePdus(append.Room!);
            if (append.StateEvent(EventTypes.Member, userId) is { } inviter)
                roomState.Add((JsonNode)events.ToPdu(inviter, version).Json.DeepClone());
        }

        var server = targetUser.Server.Value;
        var request = new JsonObject
        {
            ["room_version"] = version.Id,
            ["event"] = invite.Json.DeepClone(),
            ["invite_room_state"] = roomState,
        };
        JsonObject answer;
        try
        {
            answer = await federation.PutAsync(server, $"/_matrix/federation/v2/invite/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(invite.EventId.Value)}", request, cancellationToken);
        }
        catch (FederationException e)
        {
            throw RemoteErrors.ForClient(e);
        }
        if (answer["event"] is not JsonObject countersigned || Parse(countersigned, version) is not { } signed || signed.EventId != invite.EventId)
            throw new MatrixException(ErrorCode.RemoteUnavailable, $"{server} answered the invite with another event.");

        var result = await inbound.ReceiveAsync(config.ServerName, countersigned, cancellationToken);
        if (result.Outcome != PduOutcome.Accepted)
            throw MatrixException.Forbidden($"The invite was not accepted into the room: {result.Reason}");
        sender.EnqueuePdu(sender.ServersInRoom(roomId), countersigned);
        logger.LogInformation("{UserId} invited {Target} to {RoomId}", userId, target, roomId);
    }

    /// <summary>
    /// Creates a room (<c>/createRoom</c>); its invitees of other servers are invited over federation once it
    /// exists. One that cannot be invited does not undo the room: the failure is logged and the others go on.
    /// </summary>
    public async Task<string> CreateRoomAsync(string userId, CreateRoomOptions options, CancellationToken cancellationToken)
    {
        var roomId = await rooms.CreateRoomAsync(userId, options);
        foreach (var invitee in options.Invite.Distinct(StringComparer.Ordinal).Where(u => u != userId && !rooms.IsLocal(u)))
        {
            try
            {
                await InviteAsync(userId, roomId, invitee, null, options.IsDirect, cancellationToken);
            }
            catch (MatrixException e)
            {
                logger.LogWarning("Inviting {Invitee} to the new room {RoomId} failed: {Error}", invitee, roomId, e.Message);
            }
        }
        return roomId;
    }

    /// <summary>
    /// The room a join or knock names and the servers to go through, or null when it is a matter for this
    /// server alone: a local alias, or a room a user of this server is joined to (or that no other server could help with).
    /// </summary>
    private async Task<(string RoomId, List<string> Servers)?> ResolveAsync(string userId, string roomIdOrAlias, IReadOnlyList<string> via, CancellationToken cancellationToken)
    {
        var named = new List<string>(via);
        string roomId;
        if (RoomAlias.TryParse(roomIdOrAlias, out var alias) && alias.Server.Value != config.ServerName)
        {
            var (resolved, aliasServers) = await aliasResolver.ResolveAsync(alias.Value, cancellationToken);
            roomId = resolved;
            named.InsertRange(0, aliasServers);
        }
        else if (RoomId.TryParse(roomIdOrAlias, out _))
        {
            roomId = roomIdOrAlias;
        }
        else
        {
            return null;
        }
        if (served.IsJoinedHere(roomId))
            return null;
        var servers = CandidateServers(userId, roomId, named);
        if (servers.Count == 0)
        {
            if (events.Find(roomId) is not null)
                return null;
            throw MatrixException.NotFound("This server is not in the room and no server to go through is known.");
        }
        return (roomId, servers);
    }

    /// <summary>
    /// The servers that may be in a room this server is not joined to, without this one: those named,
    /// those of the user's invite or knock, the room id's, and those of the room's joined members as this
    /// server last knew them.
    /// </summary>
    private List<string> CandidateServers(string userId, string roomId, IEnumerable<string> named)
    {
        var servers = new List<string>(named);
        if (outOfRoom.Find(userId, roomId) is { } record)
            servers.AddRange(record.Servers);
        if (RoomId.TryParse(roomId, out var parsed) && parsed.Server is { } roomServer)
            servers.Add(roomServer.Value);
        if (events.Find(roomId) is { } room)
            servers.AddRange(sender.ServersInRoom(room.RoomId));
        return [.. servers.Distinct(StringComparer.Ordinal).Where(s => s != config.ServerName)];
    }

    /// <summary>Runs <paramref name="attempt"/> against each server until one succeeds; the last failure as the client's error.</summary>
    private async Task ThroughAsync(IReadOnlyList<string> servers, string roomId, string what, Func<string, Task> attempt)
    {
        FederationException? last = null;
        foreach (var server in servers)
        {
            try
            {
                await attempt(server);
                return;
            }
            catch (FederationException e)
            {
                logger.LogInformation("The {What} of {RoomId} through {Server} failed: {Error}", what, roomId, server, e.Message);
                last = e;
            }
        }
        throw last?.Status == 403
            ? MatrixException.Forbidden($"{last.Destination} refused the {what}: {(string?)last.Body?["error"]}")
            : MatrixException.NotFound($"No server could help with the {what} of {roomId}: {last?.Message}");
    }

    /// <summary>
    /// <c>make_{membership}</c> on <paramref name="server"/>, the event built on its template and signed here,
    /// then <c>send_{membership}</c>: the room version, the event as sent (or as countersigned by a restricted
    /// join's authoriser) and the answer.
    /// </summary>
    private async Task<(RoomVersion Version, Pdu Event, JsonObject Answer)> HandshakeAsync(
        string server, string membership, string userId, string roomId, string? reason, CancellationToken cancellationToken)
    {
        var room = Uri.EscapeDataString(roomId);
        var query = membership == Membership.Leave ? "" : "?" + VersionQuery;
        var made = await federation.GetAsync(server, $"/_matrix/federation/v1/make_{membership}/{room}/{Uri.EscapeDataString(userId)}{query}", cancellationToken);

        // A make_leave answer without a version is of room version 1 or 2, which build events alike.
        if (!RoomVersion.TryGet((string?)made["room_version"] ?? "1", out var version))
            throw new FederationException(server, null, made, $"{server} offered a room version this server does not support.");
        if (made["event"] is not JsonObject template)
            throw new FederationException(server, null, made, $"{server} answered make_{membership} without an event.");

        var pdu = Build(server, template, version, membership, userId, roomId, reason);
        var path = membership switch
        {
            Membership.Join => $"/_matrix/federation/v2/send_join/{room}",
            Membership.Leave => $"/_matrix/federation/v2/send_leave/{room}",
            _ => $"/_matrix/federation/v1/send_knock/{room}",
        };
        var sent = await federation.PutAsync(server, $"{path}/{Uri.EscapeDataString(pdu.EventId.Value)}", pdu.Json, FederationClient.RoomAnswerTimeout, cancellationToken);

        // A restricted join comes back signed by the member who authorised it.
        if (sent["event"] is JsonObject countersigned && Parse(countersigned, version) is { } withAuthoriser && withAuthoriser.EventId == pdu.EventId)
            pdu = withAuthoriser;
        return (version, pdu, sent);
    }

    /// <summary>
    /// Checks the state and auth chain a <c>send_join</c> answered and stores the room: new, or one this
    /// server knew but had left, which starts again at the join.
    /// </summary>
    private async Task StoreJoinAsync(string server, string roomId, RoomVersion version, Pdu join, JsonObject sent, CancellationToken cancellationToken)
    {
        var byId = new Dictionary<string, Pdu>(StringComparer.Ordinal);
        foreach (var node in (sent["auth_chain"] as JsonArray ?? []).Concat(sent["state"] as JsonArray ?? []))
        {
            if (node is JsonObject json && Parse(json, version) is { } pdu && pdu.RoomId.Value == roomId)
                byId.TryAdd(pdu.EventId.Value, pdu);
        }
        var accepted = await CheckAsync(byId.Values, version, cancellationToken);
        var state = (sent["state"] as JsonArray ?? [])
            .Select(node => (string?)node?["event_id"] ?? (node is JsonObject json ? Parse(json, version)?.EventId.Value : null))
            .OfType<string>()
            .Select(id => accepted.GetValueOrDefault(id))
            .OfType<Pdu>()
            .Where(pdu => pdu.StateKey is not null)
            .ToList();

        using var append = await events.LockAsync(roomId, cancellationToken) ?? events.NewRoom(version, RoomId.Parse(roomId));
        try
        {
            append.AppendRemoteJoin(join, [.. accepted.Values.OrderBy(p => p.Depth)], state);
        }
        catch (MatrixException e)
        {
            throw new FederationException(server, null, sent, $"The state {server} answered does not allow the join: {e.Message}");
        }
        await append.CommitAsync();
        logger.LogInformation("Joined {RoomId} through {Server} with {State} state events", roomId, server, state.Count);
    }

    /// <summary>
    /// The event on the resident server's template, once the template is what the spec says it must be
    /// (this room, a member event of <paramref name="membership"/> for the user): our profile and reason,
    /// hashed, signed, with its id.
    /// </summary>
    private Pdu Build(string server, JsonObject template, RoomVersion version, string membership, string userId, string roomId, string? reason)
    {
        var json = (JsonObject)template.DeepClone();
        var content = json["content"] as JsonObject ?? [];
        if ((string?)json["type"] != EventTypes.Member || (string?)json["state_key"] != userId || (string?)json["sender"] != userId
            || (string?)json["room_id"] != roomId || Membership.Read(content) != membership)
            throw new FederationException(server, null, template, $"{server} answered make_{membership} with another event than {userId}'s {membership}.");
        if (!string.IsNullOrEmpty(reason))
            content["reason"] = reason;
        json["content"] = rooms.WithProfile(content, userId);
        json["origin"] = config.ServerName;
        json["origin_server_ts"] = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var field in (string[])["event_id", "hashes", "signatures", "unsigned"])
            json.Remove(field);
        if (version.EventIdInPdu)
            json["event_id"] = EventIds.NewServerScoped(events.Origin).Value;
        EventHashes.AddContentHash(json);
        EventSigning.AddSignature(json, version, config.ServerName, events.Keys.SigningKey);
        return Parse(json, version) ?? throw new FederationException(server, null, template, $"{server} answered make_{membership} with an invalid template.");
    }

    /// <summary>
    /// Steps 2 to 4 of the inbound checks over the state and auth chain, shallowest first: an event whose
    /// signatures fail, whose auth events are not all accepted, or that its auth events do not allow is left out.
    /// </summary>
    private async Task<Dictionary<string, Pdu>> CheckAsync(IEnumerable<Pdu> received, RoomVersion version, CancellationToken cancellationToken)
    {
        var accepted = new Dictionary<string, Pdu>(StringComparer.Ordinal);
        var create = received.FirstOrDefault(p => p.Type == EventTypes.Create && p.StateKey == "");
        foreach (var original in received.OrderBy(p => p.Depth))
        {
            if (await inbound.CheckSignedAsync(original, cancellationToken) is not { } pdu)
                continue;
            var authEvents = pdu.AuthEvents.Select(id => accepted.GetValueOrDefault(id.Value)).ToList();
            if (authEvents.Any(a => a is null))
            {
                logger.LogInformation("Event {EventId} of a join's state is left out: an auth event is missing or refused", pdu.EventId);
                continue;
            }
            var check = EventAuth.CheckAgainstAuthEvents(pdu, authEvents!, create, (_, _) => true);
            if (!check.IsAllowed)
            {
                logger.LogInformation("Event {EventId} of a join's state is left out: {Reason}", pdu.EventId, check.Reason);
                continue;
            }
            accepted[pdu.EventId.Value] = pdu;
        }
        return accepted;
    }

    private static Pdu? Parse(JsonObject json, RoomVersion version)
    {
        try
        {
            return Pdu.Parse((JsonObject)json.DeepClone(), version);
        }
        catch (PduFormatException)
        {
            return null;
        }
    }
}
