using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Keys;
using Conduit.Net.Services.Presence;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Storage;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Federation;

/// <summary>
/// The EDUs that local changes send to the servers sharing a room with the user (spec server-server
/// "Presence" and "Device Management"): <c>m.presence</c> for each published presence change and,
/// once, for the local members of a room to a server that newly shares it,
/// <c>m.device_list_update</c> for each device whose keys, name or existence changed and
/// <c>m.signing_key_update</c> for the master and self-signing keys. A device change is queued once
/// the change has committed, with what the store then holds (the keys <c>/user/devices</c> serves,
/// or <c>deleted</c> for a device that is gone), and <c>stream_id</c>/<c>prev_id</c> from the
/// change's positions, which are those <c>/user/devices</c> answers as <c>stream_id</c>.
/// </summary>
/// <remarks>
/// The change and its EDUs are two commits: a crash between them loses the EDUs, and the next
/// update's <c>prev_id</c> then names a position the receiver never saw, which tells it to fetch
/// the whole list again.
/// </remarks>
public sealed class OutboundEdus
{
    public const string DeviceListUpdate = "m.device_list_update";
    public const string SigningKeyUpdate = "m.signing_key_update";
    public const string Presence = "m.presence";

    private readonly KeyService _keys;
    private readonly PresenceService _presence;
    private readonly FederationSender _sender;
    private readonly string _serverName;
    private readonly RoomEvents _rooms;
    private readonly KvStore _store;
    private readonly ILogger<OutboundEdus> _logger;

    public OutboundEdus(
        KvStore store,
        DeviceKeyStore deviceKeys,
        KeyService keys,
        PresenceService presence,
        FederationSender sender,
        RoomEvents rooms,
        ServerConfig config,
        ILogger<OutboundEdus> logger)
    {
        _serverName = config.ServerName;
        _presence = presence;
        _store = store;
        _keys = keys;
        _sender = sender;
        _rooms = rooms;
        _logger = logger;
        deviceKeys.LocalChange += (batch, change) => batch.AfterCommit(() => SendDeviceListChange(change));
        presence.LocalChange += SendPresence;
        rooms.Members.Joined += (roomId, userIds, write) => write.AfterCommit(() => SendPresenceToNewRoomMates(roomId, userIds));
    }

    /// <summary>The servers other than this one that share a room with the user.</summary>
    private IReadOnlyList<string> ServersSharingARoomWith(string userId) =>
        _sender.ServersInRooms(_rooms.Members.RoomsOf(userId, Membership.Join).Select(r => r.RoomId));

    private void SendPresence(string userId)
    {
        try
        {
            var destinations = ServersSharingARoomWith(userId);
            if (destinations.Count > 0)
                _sender.EnqueueEdu(destinations, Presence, new JsonObject { ["push"] = new JsonArray(_presence.PresenceUpdate(userId)) });
        }
        catch (Exception e)
        {
            // Presence is best effort: the change stands locally, and the next one goes out again.
            _logger.LogError(e, "Could not queue the presence of {UserId}", userId);
        }
    }

    /// <summary>
    /// <paramref name="joined"/> just joined the room: the server of a remote joiner is told the
    /// presence of every local member, the room's other servers that of the local joiners (spec
    /// server-server "Presence": a server learns of presence by sharing a room with the user; we push
    /// only changes otherwise, so a server that newly shares a room would not hear of the current state).
    /// </summary>
    private void SendPresenceToNewRoomMates(string roomId, IReadOnlyList<string> joined)
    {
        try
        {
            List<string> newServers = [.. joined.Select(ServerOf).OfType<string>().Where(s => s != _serverName).Distinct(StringComparer.Ordinal)];
            var localJoiners = joined.Where(IsLocal).ToList();
            if (newServers.Count > 0 && _rooms.Ids.FindRoom(roomId) is { } shortRoomId)
                PushPresence(newServers, _rooms.Members.Members(shortRoomId, Membership.Join).Where(IsLocal));
            if (localJoiners.Count > 0)
                PushPresence([.. _sender.ServersInRoom(roomId).Except(newServers, StringComparer.Ordinal)], localJoiners);
        }
        catch (Exception e)
        {
            // Presence is best effort: the join stands, and the next change of each user goes out anyway.
            _logger.LogError(e, "Could not queue the presence for the new members of {RoomId}", roomId);
        }
    }

    private void PushPresence(List<string> destinations, IEnumerable<string> userIds)
    {
        var push = new JsonArray([.. userIds.Select(u => (JsonNode)_presence.PresenceUpdate(u))]);
        if (destinations.Count > 0 && push.Count > 0)
            _sender.EnqueueEdu(destinations, Presence, new JsonObject { ["push"] = push });
    }

    private bool IsLocal(string userId) => ServerOf(userId) == _serverName;

    private static string? ServerOf(string userId) => UserId.TryParse(userId, out var parsed) ? parsed.Server.Value : null;

    private void SendDeviceListChange(DeviceListChange change)
    {
        try
        {
            if (change.Devices.Count == 0 && !change.CrossSigningKeys)
                return;
            var destinations = ServersSharingARoomWith(change.UserId);
            if (destinations.Count == 0)
                return;
            var current = _keys.DevicesForServer(change.UserId);
            var devices = current["devices"]!.AsArray().OfType<JsonObject>().ToDictionary(d => (string)d["device_id"]!, StringComparer.Ordinal);
            using var batch = new WriteBatch();
            foreach (var update in change.Devices)
            {
                var content = new JsonObject
                {
                    ["user_id"] = change.UserId,
                    ["device_id"] = update.DeviceId,
                    ["stream_id"] = update.StreamId,
                    ["prev_id"] = update.PrevId == 0 ? new JsonArray() : new JsonArray(update.PrevId),
                };
                if (devices.TryGetValue(update.DeviceId, out var device))
                {
                    content["keys"] = device["keys"]!.DeepClone();
                    if (device["device_display_name"] is { } name)
                        content["device_display_name"] = name.DeepClone();
                }
                else
                {
                    content["deleted"] = true;
                }
                _sender.EnqueueEdu(batch, destinations, DeviceListUpdate, content);
            }
            if (change.CrossSigningKeys)
            {
                var content = new JsonObject { ["user_id"] = change.UserId };
                foreach (var field in new[] { "master_key", "self_signing_key" })
                {
                    if (current[field] is { } key)
                        content[field] = key.DeepClone();
                }
                _sender.EnqueueEdu(batch, destinations, SigningKeyUpdate, content);
            }
            _store.Commit(batch);
        }
        catch (Exception e)
        {
            // The change has committed and its caller must not fail for this; the next update's prev_id shows the gap.
            _logger.LogError(e, "Could not queue the device-list update of {UserId}", change.UserId);
        }
    }
}
