using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Services.Presence;
using Conduit.Net.Services.Profiles;
using Microsoft.Extensions.Logging;
using EventId = Conduit.Net.Core.Identifiers.EventId;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// Rooms as clients use them: creating one (<c>/createRoom</c>), sending message and state events,
/// redacting, and reading the current state and single events, with the access rules of each.
/// Membership changes live in <see cref="MembershipService"/>, history in <see cref="RoomHistory"/>.
/// </summary>
public sealed class RoomService
{
    public const string PrivateChat = "private_chat";
    public const string TrustedPrivateChat = "trusted_private_chat";
    public const string PublicChat = "public_chat";

    private const string CanonicalAliasType = "m.room.canonical_alias";
    private const string EncryptionType = "m.room.encryption";

    private readonly RoomEvents _events;
    private readonly RoomAliases _aliases;
    private readonly RoomDirectory _directory;
    private readonly HistoryVisibility _visibility;
    private readonly ProfileService _profiles;
    private readonly PresenceService _presence;
    private readonly IBundledAggregations _bundles;
    private readonly ServerConfig _config;
    private readonly ILogger<RoomService> _logger;

    public RoomService(
        RoomEvents events,
        RoomAliases aliases,
        RoomDirectory directory,
        HistoryVisibility visibility,
        ProfileService profiles,
        PresenceService presence,
        IBundledAggregations bundles,
        ServerConfig config,
        ILogger<RoomService> logger)
    {
        _events = events;
        _aliases = aliases;
        _directory = directory;
        _visibility = visibility;
        _profiles = profiles;
        _presence = presence;
        _bundles = bundles;
        _config = config;
        _logger = logger;
    }

    /// <summary>
    /// Creates a room with the events the spec lists, in its order, all committed at once; returns
    /// the room id. Parameters that make the initial state invalid are 400 <c>M_INVALID_ROOM_STATE</c>.
    /// </summary>
    public async Task<string> CreateRoomAsync(string userId, CreateRoomOptions options)
    {
        var version = RoomVersion.Get(options.RoomVersion ?? _config.DefaultRoomVersion);
        var visibility = options.Visibility ?? "private";
        if (visibility is not ("public" or "private"))
            throw MatrixException.InvalidParam("visibility must be \"public\" or \"private\".");
        var preset = options.Preset ?? (visibility == "public" ? PublicChat : PrivateChat);
        if (preset is not (PrivateChat or TrustedPrivateChat or PublicChat))
            throw MatrixException.InvalidParam($"Unknown preset \"{preset}\".");
        foreach (var initial in options.InitialState)
            CheckEncryptionAllowed(initial.Type);
        if (options.Invite3PidCount > 0)
            throw MatrixException.InvalidParam("Third-party invites (invite_3pid) need an identity server, which this server does not use.");
        var invitees = new List<string>();
        foreach (var invitee in options.Invite)
        {
            if (!UserId.TryParse(invitee, out var parsed))
                throw MatrixException.InvalidParam($"\"{invitee}\" is not a valid user id.");
            if (invitee != userId && !invitees.Contains(invitee))
                invitees.Add(invitee);
        }
        string? alias = null;
        if (options.RoomAliasName is { } aliasName)
        {
            alias = $"#{aliasName}:{_config.ServerName}";
            if (aliasName.Length == 0 || aliasName.Contains(':', StringComparison.Ordinal) || !RoomAlias.TryParse(alias, out _))
                throw MatrixException.InvalidParam($"\"{aliasName}\" is not a valid room alias localpart.");
        }

        var roomId = version.RoomIdFormat == RoomIdFormat.CreateEventHash ? null : EventIds.NewServerScopedRoomId(_events.Origin);
        using var append = _events.NewRoom(version, roomId);
        IDisposable? aliasReservation = null;
        try
        {
            // 1. The m.room.create event.
            AppendInitial(append, new EventDraft(EventTypes.Create, "", userId, CreateContent(userId, version, preset, invitees, options.CreationContent)));
            var room = append.Room!;
            if (alias is not null)
                aliasReservation = _aliases.Reserve(alias, room.RoomId, userId, append.Write, ErrorCode.RoomInUse);

            // 2. The creator joins.
            AppendInitial(append, new EventDraft(EventTypes.Member, userId, userId, WithProfile(new JsonObject { ["membership"] = Membership.Join }, userId)));

            // 3. Power levels: the defaults (or initial_state's), with the override on top.
            var initialState = options.InitialState.ToList();
            var initialPowerLevels = initialState.FindLast(e => e.Type == EventTypes.PowerLevels && e.StateKey == "");
            initialState.RemoveAll(e => e.Type == EventTypes.PowerLevels && e.StateKey == "");
            var powerLevels = initialPowerLevels?.Content.DeepClone().AsObject() ?? DefaultPowerLevels(userId, version, preset, invitees);
            foreach (var (key, value) in options.PowerLevelContentOverride ?? [])
                powerLevels[key] = value?.DeepClone();
            AppendInitial(append, new EventDraft(EventTypes.PowerLevels, "", userId, powerLevels));

            // 4. The canonical alias.
            if (alias is not null)
                AppendInitial(append, new EventDraft(CanonicalAliasType, "", userId, new JsonObject { ["alias"] = alias }));

            // 5. The preset's events, unless initial_state sets them.
            bool InInitialState(string type) => initialState.Exists(e => e.Type == type && e.StateKey == "");
            if (!InInitialState(EventTypes.JoinRules))
                AppendInitial(append, new EventDraft(EventTypes.JoinRules, "", userId, new JsonObject { ["join_rule"] = preset == PublicChat ? JoinRules.Public : JoinRules.Invite }));
            if (!InInitialState(EventTypes.HistoryVisibility))
                AppendInitial(append, new EventDraft(EventTypes.HistoryVisibility, "", userId, new JsonObject { ["history_visibility"] = HistoryVisibility.Shared }));
            if (!InInitialState("m.room.guest_access"))
                AppendInitial(append, new EventDraft("m.room.guest_access", "", userId, new JsonObject { ["guest_access"] = preset == PublicChat ? "forbidden" : "can_join" }));

            // 6. initial_state, in order; name and topic below take precedence over theirs.
            foreach (var initial in initialState)
            {
                if ((initial.Type == "m.room.name" && options.Name is not null) || (initial.Type == "m.room.topic" && options.Topic is not null))
                    continue;
                AppendInitial(append, new EventDraft(initial.Type, initial.StateKey, userId, initial.Content.DeepClone().AsObject()));
            }

            // 7. Name and topic.
            if (options.Name is not null)
                AppendInitial(append, new EventDraft("m.room.name", "", userId, new JsonObject { ["name"] = options.Name }));
            if (options.Topic is not null)
                AppendInitial(append, new EventDraft("m.room.topic", "", userId, TopicContent(options.Topic)));

            // 8. Invites; users of other servers are invited over federation once the room exists.
            foreach (var invitee in invitees.Where(IsLocal))
            {
                var content = new JsonObject { ["membership"] = Membership.Invite };
                if (options.IsDirect)
                    content["is_direct"] = true;
                AppendInitial(append, new EventDraft(EventTypes.Member, invitee, userId, WithProfile(content, invitee)));
            }

            if (visibility == "public")
                _directory.SetPublished(room.RoomId, true, append.Write);
            await append.CommitAsync();
            _logger.LogInformation("{UserId} created room {RoomId} (version {Version}, {Preset})", userId, room.RoomId, version.Id, preset);
            return room.RoomId;
        }
        finally
        {
            aliasReservation?.Dispose();
        }
    }

    /// <summary>
    /// Sends a message event (<c>PUT /send/{type}/{txnId}</c>): the same device and txn id give the
    /// same event id, however often the request is repeated. Rooms the user is not joined to are 403.
    /// </summary>
    public async Task<string> SendMessageAsync(string userId, string deviceId, string roomId, string type, string txnId, JsonObject content, CancellationToken cancellationToken)
    {
        var txn = new ClientTransaction(userId, deviceId, roomId, "send", txnId);
        if (_events.Transactions.Find(txn) is { } done)
            return done;
        using var append = await LockJoinedAsync(userId, roomId, cancellationToken);
        if (_events.Transactions.Find(txn) is { } raced)
            return raced;

        string? redacts = null;
        if (type == EventTypes.Redaction)
        {
            // Redactions may be sent here too; before room version 11 `redacts` moves to the top level.
            redacts = content["redacts"] is JsonValue target && target.GetValueKind() == JsonValueKind.String && EventId.TryParse(target.GetValue<string>(), out var parsed)
                ? parsed.Value
                : throw MatrixException.BadJson("An m.room.redaction needs content.redacts, an event id.");
            content = (JsonObject)content.DeepClone();
            content.Remove("redacts");
            CheckMayRedact(append, userId, redacts);
        }
        var stored = append.Append(new EventDraft(type, null, userId, content) { Redacts = redacts, Transaction = txn });
        await append.CommitAsync();

        // Sending is the spec's example of the activity that keeps a user online (and wakes an idle one).
        _presence.MarkActive(userId);
        return stored.EventId;
    }

    /// <summary>Sends a state event (<c>PUT /state/{type}/{stateKey}</c>).</summary>
    public async Task<string> SendStateAsync(string userId, string roomId, string type, string stateKey, JsonObject content, CancellationToken cancellationToken)
    {
        CheckEncryptionAllowed(type);
        using var append = await LockAsync(roomId, cancellationToken)
            ?? throw MatrixException.Forbidden("You are not a member of this room.");
        if (type == CanonicalAliasType)
            CheckCanonicalAliases(append, content);
        if (type == EventTypes.Member)
            content = WithProfile((JsonObject)content.DeepClone(), stateKey);
        var stored = append.Append(new EventDraft(type, stateKey, userId, content));
        await append.CommitAsync();
        return stored.EventId;
    }

    /// <summary>
    /// Redacts an event (<c>PUT /redact/{eventId}/{txnId}</c>): one's own events, or anyone's with
    /// the room's <c>redact</c> power level. Idempotent per device and txn id like sending.
    /// </summary>
    public async Task<string> RedactAsync(string userId, string deviceId, string roomId, string eventId, string txnId, string? reason, CancellationToken cancellationToken)
    {
        var txn = new ClientTransaction(userId, deviceId, roomId, "redact", txnId);
        if (_events.Transactions.Find(txn) is { } done)
            return done;
        using var append = await LockJoinedAsync(userId, roomId, cancellationToken);
        if (_events.Transactions.Find(txn) is { } raced)
            return raced;
        CheckMayRedact(append, userId, eventId);
        var content = new JsonObject();
        if (reason is not null)
            content["reason"] = reason;
        var stored = append.Append(new EventDraft(EventTypes.Redaction, null, userId, content) { Redacts = eventId, Transaction = txn });
        await append.CommitAsync();
        return stored.EventId;
    }

    /// <summary>
    /// One state event of the state the user may read (<c>GET /state/{type}/{stateKey}</c>): its
    /// content, or the whole client event. 404 <c>M_NOT_FOUND</c> when that state is not set.
    /// </summary>
    public JsonObject GetStateEvent(string userId, string roomId, string type, string stateKey, bool wholeEvent)
    {
        var (room, state) = ReadableState(userId, roomId);
        var stored = _events.Ids.FindStateKey(type, stateKey) is { } key && state.Get(key) is { } shortEventId
            ? _events.Timeline.Get(shortEventId)
            : null;
        if (stored is null)
            throw MatrixException.NotFound($"The room has no {type} state with key \"{stateKey}\".");
        return wholeEvent ? FormatState(stored, room, userId) : stored.ContentObject();
    }

    /// <summary>Every event of the state the user may read (<c>GET /state</c>).</summary>
    public JsonArray GetState(string userId, string roomId)
    {
        var (room, state) = ReadableState(userId, roomId);
        var events = new JsonArray();
        foreach (var stored in _events.StateEvents(state))
            events.Add((JsonNode)FormatState(stored, room, userId));
        return events;
    }

    /// <summary>One event (<c>GET /event/{eventId}</c>): 404 when unknown, in another room, or hidden by history visibility.</summary>
    public JsonObject GetEvent(string userId, string deviceId, string roomId, string eventId)
    {
        var room = _events.Find(roomId);
        var stored = room is not null && _events.Ids.FindEvent(eventId) is { } shortEventId ? _events.Timeline.Get(shortEventId) : null;
        if (room is null || stored is null || stored.ShortRoomId != room.ShortRoomId || !_visibility.ForClient(userId, room).MaySee(stored))
            throw MatrixException.NotFound("Event not found.");
        return Format(stored, room, userId, deviceId);
    }

    /// <summary>
    /// The client form of an event for <paramref name="userId"/>: with <c>unsigned.age</c>, the
    /// transaction id when <paramref name="deviceId"/> sent it, the bundled aggregations of its
    /// children (<c>unsigned.m.relations</c>) and the user's membership at the event
    /// (<c>unsigned.membership</c>).
    /// </summary>
    public JsonObject Format(StoredEvent stored, RoomSnapshot room, string userId, string? deviceId)
    {
        string? transactionId = null;
        if (deviceId is not null && stored.Sender == userId && _events.Index.Get(stored.ShortEventId) is { DeviceId: { } sender } record && sender == deviceId)
            transactionId = record.TxnId;
        var client = ClientEvents.Format(stored, room.RoomId, _events.Time.GetUtcNow().ToUnixTimeMilliseconds(), transactionId);
        if (_bundles.Bundle(stored, room, userId) is { } relations)
            ClientEvents.AddRelations(client, relations);
        ClientEvents.AddUnsigned(client, "membership", MembershipAt(stored, userId));
        return client;
    }

    /// <summary>
    /// A state event as a list of a room's state serves it (<c>GET /state</c>, <c>/members</c>, the
    /// state of <c>/sync</c>, <c>/context</c> and <c>/messages</c>): without <c>unsigned.membership</c>,
    /// which the spec asks for only where practical and which would cost a state lookup per member
    /// of a large room.
    /// </summary>
    public JsonObject FormatState(StoredEvent stored, RoomSnapshot room, string userId)
    {
        var client = ClientEvents.Format(stored, room.RoomId, _events.Time.GetUtcNow().ToUnixTimeMilliseconds(), null);
        if (_bundles.Bundle(stored, room, userId) is { } relations)
            ClientEvents.AddRelations(client, relations);
        return client;
    }

    /// <summary>
    /// The membership of <paramref name="userId"/> at <paramref name="stored"/> including the change
    /// the event makes (spec: <c>unsigned.membership</c>, v1.11): the event's own membership when it
    /// is the user's member event, else the one in the state before it; <c>leave</c> when none.
    /// </summary>
    private string MembershipAt(StoredEvent stored, string userId)
    {
        if (stored.Type == EventTypes.Member && stored.StateKey == userId && stored.Membership is { } own)
            return own;
        return _events.StateBefore(stored.ShortEventId) is { } before
            ? _events.StateEventAt(before, EventTypes.Member, userId)?.Membership ?? Membership.Leave
            : Membership.Leave;
    }

    /// <summary>
    /// The state a user may read in a room: the current state when joined or when the room is world
    /// readable; the state as they left it when they left or were banned (and did not forget the
    /// room); otherwise 403.
    /// </summary>
    public (RoomSnapshot Room, StateSet State) ReadableState(string userId, string roomId)
    {
        var room = _events.Find(roomId) ?? throw NotInRoom();
        var record = _events.Members.Get(room.ShortRoomId, userId);
        if (record?.Membership == Membership.Join || _visibility.VisibilityAt(room.StateHash) == HistoryVisibility.WorldReadable)
            return (room, room.State);
        if (record is { Membership: Membership.Leave or Membership.Ban, Forgotten: false })
            return (room, StateAfter(record.ShortEventId));
        throw NotInRoom();
    }

    /// <summary>The full state just after an event.</summary>
    public StateSet StateAfter(ulong shortEventId) =>
        _events.StateAfter(_events.Timeline.Get(shortEventId) ?? throw new InvalidDataException($"Event {shortEventId} is not stored."));

    /// <summary>
    /// Adds the target's display name and avatar to a join, invite or knock that does not set them
    /// (as clients expect member events to carry the profile).
    /// </summary>
    internal JsonObject WithProfile(JsonObject content, string targetUserId)
    {
        if (Membership.Read(content) is not (Membership.Join or Membership.Invite or Membership.Knock)
            || !UserId.TryParse(targetUserId, out var target)
            || _profiles.Find(target) is not { } profile)
            return content;
        foreach (var field in new[] { ProfileService.DisplayName, ProfileService.AvatarUrl })
        {
            if (!content.ContainsKey(field) && profile[field] is JsonValue value)
                content[field] = value.DeepClone();
        }
        return content;
    }

    internal async Task<RoomAppend?> LockAsync(string roomId, CancellationToken cancellationToken) =>
        RoomId.TryParse(roomId, out _) ? await _events.LockAsync(roomId, cancellationToken) : null;

    /// <summary>
    /// 403 <c>M_FORBIDDEN</c> for <c>m.room.encryption</c> when the server's <c>allow_encryption</c> is
    /// off, wherever a client would create it.
    /// </summary>
    internal void CheckEncryptionAllowed(string type)
    {
        if (type == EncryptionType && !_config.AllowEncryption)
            throw MatrixException.Forbidden("End-to-end encryption is disabled on this server (allow_encryption = false): m.room.encryption is refused.");
    }

    /// <summary>Whether the user id names a user of this server.</summary>
    public bool IsLocal(string userId) => UserId.TryParse(userId, out var parsed) && parsed.Server.Value == _config.ServerName;

    internal static MatrixException NotInRoom() => MatrixException.Forbidden("You are not a member of this room.");

    private async Task<RoomAppend> LockJoinedAsync(string userId, string roomId, CancellationToken cancellationToken)
    {
        var append = await LockAsync(roomId, cancellationToken) ?? throw NotInRoom();
        if (Membership.Of(append.State, userId) != Membership.Join)
        {
            append.Dispose();
            throw NotInRoom();
        }
        return append;
    }

    /// <summary>One's own events may always be redacted; other users' need the <c>redact</c> power level.</summary>
    private void CheckMayRedact(RoomAppend append, string userId, string eventId)
    {
        var target = _events.Ids.FindEvent(eventId) is { } shortEventId ? _events.Timeline.Get(shortEventId) : null;
        var levels = PowerLevels.Of(append.State, append.Version);
        var allowed = target is not null && target.ShortRoomId == append.Room!.ShortRoomId
            ? RedactionAuth.MayRedactAsClient(userId, _events.ToPdu(target, append.Version), levels)
            : levels.UserLevel(userId) >= levels.Redact;
        if (!allowed)
            throw MatrixException.Forbidden("You do not have the power level to redact other users' events.");
    }

    /// <summary>
    /// New aliases in <c>m.room.canonical_alias</c> must be valid (400 <c>M_INVALID_PARAM</c>) and, when
    /// local, exist and point to this room (400 <c>M_BAD_ALIAS</c>). Aliases already in the event are not checked.
    /// </summary>
    private void CheckCanonicalAliases(RoomAppend append, JsonObject content)
    {
        var current = append.StateEvent(CanonicalAliasType, "");
        var existing = new HashSet<string>(StringComparer.Ordinal);
        if (current is not null)
        {
            foreach (var alias in AliasesIn(current.ContentObject(), lenient: true))
                existing.Add(alias);
        }
        foreach (var alias in AliasesIn(content, lenient: false))
        {
            if (existing.Contains(alias))
                continue;
            if (!RoomAlias.TryParse(alias, out var parsed))
                throw MatrixException.InvalidParam($"\"{alias}\" is not a valid room alias.");
            if (parsed.Server.Value != _config.ServerName)
                throw new MatrixException(ErrorCode.BadAlias, $"The alias {alias} is on another server and cannot be checked.");
            if (_aliases.Find(alias) is not { } target || target.RoomId != append.Room!.RoomId)
                throw new MatrixException(ErrorCode.BadAlias, $"The alias {alias} does not point to this room.");
        }
    }

    private static IEnumerable<string> AliasesIn(JsonObject content, bool lenient)
    {
        if (content["alias"] is { } alias)
        {
            if (alias is JsonValue value && value.GetValueKind() == JsonValueKind.String)
                yield return value.GetValue<string>();
            else if (!lenient)
                throw MatrixException.BadJson("alias must be a string.");
        }
        if (content["alt_aliases"] is { } alternatives)
        {
            if (alternatives is not JsonArray array)
            {
                if (!lenient)
                    throw MatrixException.BadJson("alt_aliases must be an array of strings.");
                yield break;
            }
            foreach (var item in array)
            {
                if (item is JsonValue itemValue && itemValue.GetValueKind() == JsonValueKind.String)
                    yield return itemValue.GetValue<string>();
                else if (!lenient)
                    throw MatrixException.BadJson("alt_aliases must be an array of strings.");
            }
        }
    }

    private static void AppendInitial(RoomAppend append, EventDraft draft)
    {
        try
        {
            append.Append(draft);
        }
        catch (MatrixException e) when (e.Code == ErrorCode.Forbidden || e.Code == ErrorCode.BadJson)
        {
            throw new MatrixException(ErrorCode.InvalidRoomState, $"The initial state is invalid at {draft.Type} \"{draft.StateKey}\": {e.Message}");
        }
    }

    private static JsonObject CreateContent(string userId, RoomVersion version, string preset, List<string> invitees, JsonObject? creationContent)
    {
        var content = (JsonObject?)creationContent?.DeepClone() ?? [];
        content.Remove("creator");
        if (!version.CreatorIsSender)
            content["creator"] = userId;
        content["room_version"] = version.Id;
        if (version.PrivilegedCreators && preset == TrustedPrivateChat && invitees.Count > 0)
        {
            var creators = new List<string>();
            if (content["additional_creators"] is JsonArray given)
            {
                foreach (var item in given)
                {
                    if (item is JsonValue value && value.GetValueKind() == JsonValueKind.String && !creators.Contains(value.GetValue<string>()))
                        creators.Add(value.GetValue<string>());
                }
            }
            foreach (var invitee in invitees)
            {
                if (!creators.Contains(invitee))
                    creators.Add(invitee);
            }
            content["additional_creators"] = new JsonArray([.. creators.Select(c => (JsonNode)c)]);
        }
        return content;
    }

    /// <summary>
    /// The default power levels: the creator at 100 (from room version 12 creators are not listed:
    /// their power is unlimited), state at 50 with the sensitive events at 100, and the tombstone
    /// above <c>state_default</c> (150 from version 12, as the spec asks). Private presets let members
    /// invite; <c>trusted_private_chat</c> gives invitees the creator's level.
    /// </summary>
    private static JsonObject DefaultPowerLevels(string userId, RoomVersion version, string preset, List<string> invitees)
    {
        var users = new JsonObject();
        if (!version.PrivilegedCreators)
        {
            users[userId] = 100;
            if (preset == TrustedPrivateChat)
            {
                foreach (var invitee in invitees)
                    users[invitee] = 100;
            }
        }
        return new JsonObject
        {
            ["users"] = users,
            ["users_default"] = 0,
            ["events"] = new JsonObject
            {
                ["m.room.name"] = 50,
                ["m.room.power_levels"] = 100,
                ["m.room.history_visibility"] = 100,
                ["m.room.canonical_alias"] = 50,
                ["m.room.avatar"] = 50,
                ["m.room.tombstone"] = version.PrivilegedCreators ? 150 : 100,
                ["m.room.server_acl"] = 100,
                ["m.room.encryption"] = 100,
            },
            ["events_default"] = 0,
            ["state_default"] = 50,
            ["ban"] = 50,
            ["kick"] = 50,
            ["redact"] = 50,
            ["invite"] = preset == PublicChat ? 50 : 0,
        };
    }

    private static JsonObject TopicContent(string topic) => new()
    {
        ["topic"] = topic,
        ["m.topic"] = new JsonObject
        {
            ["m.text"] = new JsonArray(new JsonObject { ["body"] = topic, ["mimetype"] = "text/plain" }),
        },
    };
}
