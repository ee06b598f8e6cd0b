using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// Room upgrades (<c>POST /rooms/{roomId}/upgrade</c>, "Room Upgrades", server behaviour): a new room
/// of the requested version whose create event names its predecessor, the transferable state copied
/// over, the local aliases and the directory listing moved, a tombstone in the old room and its
/// power levels tightened so that it falls silent.
/// </summary>
public sealed class RoomUpgrades
{
    private const string TombstoneType = "m.room.tombstone";

    /// <summary>The state the spec recommends transferring, in the order it is sent into the new room (power levels first, separately).</summary>
    private static readonly string[] TransferredState =
    [
        "m.room.join_rules", "m.room.history_visibility", "m.room.guest_access", "m.room.name", "m.room.avatar",
        "m.room.topic", "m.room.encryption", "m.room.server_acl",
    ];

    private readonly RoomEvents _events;
    private readonly RoomService _rooms;
    private readonly RoomAliases _aliases;
    private readonly RoomDirectory _directory;
    private readonly ILogger<RoomUpgrades> _logger;

    public RoomUpgrades(RoomEvents events, RoomService rooms, RoomAliases aliases, RoomDirectory directory, ILogger<RoomUpgrades> logger)
    {
        _events = events;
        _rooms = rooms;
        _aliases = aliases;
        _directory = directory;
        _logger = logger;
    }

    /// <summary>
    /// Upgrades the room and returns the replacement's id. 403 unless the user is joined and may
    /// send <c>m.room.tombstone</c>; 400 <c>M_UNSUPPORTED_ROOM_VERSION</c> for an unknown version.
    /// </summary>
    public async Task<string> UpgradeAsync(string userId, string roomId, string newVersionId, IReadOnlyList<string> additionalCreators, CancellationToken cancellationToken)
    {
        var version = RoomVersion.Get(newVersionId);
        using var old = await _rooms.LockAsync(roomId, cancellationToken) ?? throw RoomService.NotInRoom();
        var oldState = old.State;
        var oldLevels = PowerLevels.Of(oldState, old.Version);
        if (Membership.Of(oldState, userId) != Membership.Join)
            throw RoomService.NotInRoom();
        if (!oldLevels.MaySend(userId, TombstoneType, isState: true))
            throw MatrixException.Forbidden("You do not have the power level to upgrade this room (it needs m.room.tombstone).");
        if (old.StateEvent(TombstoneType, "") is not null)
            throw MatrixException.Forbidden("This room has already been upgraded.");

        // The encryption is carried into the replacement; without it, clients would send in the clear.
        if (old.StateEvent("m.room.encryption", "") is not null)
            _rooms.CheckEncryptionAllowed("m.room.encryption");

        var oldRoom = old.Room!;
        var lastEvent = _events.Timeline.Get(oldRoom.Extremities[0])!;
        var newRoomId = version.RoomIdFormat == RoomIdFormat.CreateEventHash ? null : EventIds.NewServerScopedRoomId(_events.Origin);
        string replacement;
        using (var created = _events.NewRoom(version, newRoomId))
        {
            var create = CreateContent(old, userId, version, oldRoom.RoomId, lastEvent.EventId, additionalCreators);
            created.Append(new EventDraft(EventTypes.Create, "", userId, create));
            replacement = created.Room!.RoomId;
            created.Append(new EventDraft(EventTypes.Member, userId, userId, _rooms.WithProfile(new JsonObject { ["membership"] = Membership.Join }, userId)));

            var creators = create["additional_creators"] is JsonArray extra
                ? [userId, .. extra.Select(n => n?.GetValue<string>() ?? "")]
                : new List<string> { userId };
            var powerLevels = PowerLevelsFor(old.StateEvent(EventTypes.PowerLevels, "")?.ContentObject(), version, creators);
            var finalLevels = (JsonObject)powerLevels.DeepClone();
            if (!version.PrivilegedCreators)
                RaiseUntilStateIsCopied(powerLevels, userId);
            created.Append(new EventDraft(EventTypes.PowerLevels, "", userId, powerLevels));
            foreach (var type in TransferredState)
            {
                if (old.StateEvent(type, "") is { } stored)
                    created.Append(new EventDraft(type, "", userId, stored.ContentObject()));
            }
            if (old.StateEvent("m.room.canonical_alias", "") is { } canonical)
                created.Append(new EventDraft("m.room.canonical_alias", "", userId, canonical.ContentObject()));
            if (!JsonNode.DeepEquals(powerLevels, finalLevels))
                created.Append(new EventDraft(EventTypes.PowerLevels, "", userId, finalLevels));

            _aliases.MoveAll(oldRoom.RoomId, replacement, created.Write);
            if (_directory.IsPublished(oldRoom.RoomId))
            {
                _directory.SetPublished(oldRoom.RoomId, false, created.Write);
                _directory.SetPublished(replacement, true, created.Write);
            }
            await created.CommitAsync();
        }

        old.Append(new EventDraft(TombstoneType, "", userId, new JsonObject
        {
            ["body"] = "This room has been replaced",
            ["replacement_room"] = replacement,
        }));
        SilenceOldRoom(old, userId, oldLevels);
        await old.CommitAsync();
        _logger.LogInformation("{UserId} upgraded room {OldRoomId} to {NewRoomId} (version {Version})", userId, oldRoom.RoomId, replacement, version.Id);
        return replacement;
    }

    /// <summary>
    /// The new create event: version, predecessor (with the old room's last event), and the old
    /// room's <c>type</c> and <c>m.federate</c>; additional creators only as the request lists them.
    /// </summary>
    private static JsonObject CreateContent(RoomAppend old, string userId, RoomVersion version, string oldRoomId, string lastEventId, IReadOnlyList<string> additionalCreators)
    {
        var content = new JsonObject
        {
            ["room_version"] = version.Id,
            ["predecessor"] = new JsonObject { ["room_id"] = oldRoomId, ["event_id"] = lastEventId },
        };
        if (!version.CreatorIsSender)
            content["creator"] = userId;
        var oldCreate = old.StateEvent(EventTypes.Create, "")!.Content;
        if (oldCreate.TryGetProperty("type", out var type))
            content["type"] = JsonNode.Parse(type.GetRawText());
        if (oldCreate.TryGetProperty("m.federate", out var federate) && federate.ValueKind == JsonValueKind.False)
            content["m.federate"] = false;
        var extra = additionalCreators.Where(c => c != userId).Distinct(StringComparer.Ordinal).ToList();
        if (version.PrivilegedCreators && extra.Count > 0)
            content["additional_creators"] = new JsonArray([.. extra.Select(c => (JsonNode)c)]);
        return content;
    }

    /// <summary>
    /// The old room's power levels for the new room. From version 12 creators may not be listed (their
    /// power is unlimited), and the tombstone must need more than <c>state_default</c>.
    /// </summary>
    private static JsonObject PowerLevelsFor(JsonObject? old, RoomVersion version, List<string> creators)
    {
        var content = old ?? [];
        if (version.PrivilegedCreators)
        {
            if (content["users"] is JsonObject users)
            {
                foreach (var creator in creators)
                    users.Remove(creator);
            }
            var stateDefault = content["state_default"] is JsonValue value && value.TryGetValue<long>(out var level) ? level : PowerLevels.DefaultStateDefault;
            var events = content["events"] as JsonObject ?? [];
            content["events"] = events;
            if (!(events[TombstoneType] is JsonValue tombstone && tombstone.TryGetValue<long>(out var tombstoneLevel) && tombstoneLevel > stateDefault))
                events[TombstoneType] = stateDefault + 50;
        }
        return content;
    }

    /// <summary>
    /// Before version 12 the upgrading user needs a level that lets them send the copied state;
    /// they get it in the first power levels event, and the copied levels are sent again at the end.
    /// </summary>
    private static void RaiseUntilStateIsCopied(JsonObject powerLevels, string userId)
    {
        long Level(JsonNode? node, long fallback) => node is JsonValue value && value.TryGetValue<long>(out var level) ? level : fallback;
        var needed = Level(powerLevels["state_default"], PowerLevels.DefaultStateDefault);
        if (powerLevels["events"] is JsonObject events)
        {
            foreach (var (_, level) in events)
                needed = Math.Max(needed, Level(level, 0));
        }
        var users = powerLevels["users"] as JsonObject ?? [];
        powerLevels["users"] = users;
        if (Level(users[userId], Level(powerLevels["users_default"], 0)) < needed)
            users[userId] = needed;
    }

    /// <summary>
    /// Raises the old room's <c>events_default</c> and <c>invite</c> to the greater of 50 and
    /// <c>users_default + 1</c>, when the user may change the power levels; otherwise the old room
    /// keeps its levels (the tombstone alone tells clients to move).
    /// </summary>
    private void SilenceOldRoom(RoomAppend old, string userId, PowerLevels levels)
    {
        if (!levels.MaySend(userId, EventTypes.PowerLevels, isState: true))
            return;
        var content = old.StateEvent(EventTypes.PowerLevels, "")?.ContentObject() ?? [];
        var restricted = Math.Max(50, levels.UsersDefault + 1);
        if (levels.EventsDefault >= restricted && levels.Invite >= restricted)
            return;
        content["events_default"] = Math.Max(levels.EventsDefault, restricted);
        content["invite"] = Math.Max(levels.Invite, restricted);
        try
        {
            old.Append(new EventDraft(EventTypes.PowerLevels, "", userId, content));
        }
        catch (MatrixException e)
        {
            _logger.LogInformation("Could not restrict the power levels of upgraded room {RoomId}: {Reason}", old.Room!.RoomId, e.Message);
        }
    }
}
