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
/// Joining as a client asks: a room this server is in (or a local alias) joins here; any other room
/// through the servers the client named and the room's own: a remote alias is resolved with
/// <c>/query/directory</c>, then <c>make_join</c> against each server in turn, the join built and signed
/// here, <c>send_join</c>, and the answered state and auth chain checked (signatures, hashes, the auth
/// rules against their auth events) before the room is stored with the join as its first timeline event.
/// </summary>
public sealed class RemoteJoins(
    RoomEvents events,
    RoomService rooms,
    MembershipService memberships,
    AliasResolver aliasResolver,
    InboundPdus inbound,
    FederationClient federation,
    ServerConfig config,
    TimeProvider time,
    ILogger<RemoteJoins> logger)
{
    private static readonly string VersionQuery = string.Join("&", RoomVersion.Supported.Select(v => "ver=" + Uri.EscapeDataString(v.Id)));

    /// <summary>Joins a room named by id or alias, through <paramref name="via"/> when this server is not in it; returns the room id.</summary>
    public async Task<string> JoinAsync(string userId, string roomIdOrAlias, string? reason, IReadOnlyList<string> via, CancellationToken cancellationToken)
    {
        var servers = new List<string>(via);
        string roomId;
        if (RoomAlias.TryParse(roomIdOrAlias, out var alias) && alias.Server.Value != config.ServerName)
        {
            var (resolved, aliasServers) = await aliasResolver.ResolveAsync(alias.Value, cancellationToken);
            roomId = resolved;
            servers.InsertRange(0, aliasServers);
        }
        else if (!RoomId.TryParse(roomIdOrAlias, out _) || events.Find(roomIdOrAlias) is not null)
        {
            return await memberships.JoinAsync(userId, roomIdOrAlias, reason, cancellationToken);
        }
        else
        {
            roomId = roomIdOrAlias;
        }
        if (events.Find(roomId) is not null)
            return await memberships.JoinAsync(userId, roomId, reason, cancellationToken);
        if (RoomId.Parse(roomId).Server is { } roomServer)
            servers.Add(roomServer.Value);
        servers = [.. servers.Distinct(StringComparer.Ordinal).Where(s => s != config.ServerName)];
        if (servers.Count == 0)
            throw MatrixException.NotFound("This server is not in the room and no server to join it through is known.");

        FederationException? last = null;
        foreach (var server in servers)
        {
            try
            {
                await JoinThroughAsync(server, userId, roomId, reason, cancellationToken);
                return roomId;
            }
            catch (FederationException e)
            {
                logger.LogInformation("Joining {RoomId} through {Server} failed: {Error}", roomId, server, e.Message);
                last = e;
            }
        }
        throw last?.Status == 403
            ? MatrixException.Forbidden($"{last.Destination} refused the join: {(string?)last.Body?["error"]}")
            : MatrixException.NotFound($"No server could help join {roomId}: {last?.Message}");
    }

    private async Task JoinThroughAsync(string server, string userId, string roomId, string? reason, CancellationToken cancellationToken)
    {
        var made = await federation.GetAsync(server, $"/_matrix/federation/v1/make_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(userId)}?{VersionQuery}", cancellationToken);
        if (!RoomVersion.TryGet((string?)made["room_version"] ?? "1", out var version))
            throw new FederationException(server, null, made, $"{server} offered a room version this server does not support.");
        if (made["event"] is not JsonObject template)
            throw new FederationException(server, null, made, $"{server} answered make_join without an event.");

        var join = Build(server, template, version, userId, reason);
        var sent = await federation.PutAsync(server, $"/_matrix/federation/v2/send_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(join.EventId.Value)}", join.Json, cancellationToken);

        // A restricted join comes back signed by the member who authorised it.
        if (sent["event"] is JsonObject countersigned && Parse(countersigned, version) is { } withAuthoriser && withAuthoriser.EventId == join.EventId)
            join = withAuthoriser;

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

        var append = events.NewRoom(version, RoomId.Parse(roomId));
        try
        {
            append.AppendRemoteJoin(join, [.. accepted.Values.OrderBy(p => p.Depth)], state);
        }
        catch (MatrixException e)
        {
            append.Dispose();
            throw new FederationException(server, null, sent, $"The state {server} answered does not allow the join: {e.Message}");
        }
        await append.CommitAsync();
        logger.LogInformation("Joined {RoomId} through {Server} with {State} state events", roomId, server, state.Count);
    }

    /// <summary>The join on the resident server's template: our profile and reason, hashed, signed, with its id.</summary>
    private Pdu Build(string server, JsonObject template, RoomVersion version, string userId, string? reason)
    {
        var json = (JsonObject)template.DeepClone();
        if ((string?)json["type"] != EventTypes.Member || (string?)json["state_key"] != userId || (string?)json["sender"] != userId)
            throw new FederationException(server, null, template, $"{server} answered make_join with another event than {userId}'s join.");
        var content = json["content"] as JsonObject ?? [];
        content["membership"] = Membership.Join;
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
        return Parse(json, version) ?? throw new FederationException(server, null, template, $"{server} answered make_join with an invalid template.");
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
