using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Ephemeral;
using Conduit.Net.Services.Profiles;
using Conduit.Net.Storage;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Presence;

/// <summary>
/// Presence (spec "Presence"): <c>online</c>, <c>unavailable</c> or <c>offline</c>, a status
/// message, the last active time and <c>currently_active</c>, visible to the user and to users
/// who share a room with them. Kept in <see cref="Trees.Presence"/> with a change log by position
/// in <see cref="Trees.PresenceChanges"/> (each user once, at their latest change).
/// </summary>
/// <remarks>
/// The rules, all timers on one <see cref="Deadlines{TKey}"/> (no polling):
/// <list type="bullet">
/// <item>Setting the status (<c>PUT /presence</c>) sets the state and message and counts as activity.</item>
/// <item>A sync with <c>set_presence=online</c> (the default) brings an offline user online (and
/// counts as activity), but leaves an idle (<c>unavailable</c>) user idle: syncing is not activity.
/// <c>set_presence=unavailable</c> marks the user idle; <c>offline</c> changes nothing.</item>
/// <item>Activity (<see cref="MarkActive"/>, e.g. sending an event) brings the user online.</item>
/// <item>Online without activity for <see cref="IdleTimeout"/>: <c>unavailable</c>.</item>
/// <item>Not offline, no sync in progress and none for <see cref="OfflineTimeout"/>: <c>offline</c>.</item>
/// <item><c>currently_active</c>: online with activity in the last <see cref="ActiveWindow"/>; its
/// end is a change of its own, as the spec asks.</item>
/// <item>A remote user whose server told nothing of him for <see cref="RemoteTimeout"/> (it may be
/// gone for good): <c>offline</c>, his last active time kept, so <c>last_active_ago</c> goes on growing.</item>
/// </list>
/// A change of state, message or <c>currently_active</c> takes a position; a newer last active
/// time alone does not, but every read reports it as of now.
/// </remarks>
public sealed class PresenceService : IDisposable
{
    public const string Online = "online";
    public const string Unavailable = "unavailable";
    public const string Offline = "offline";

    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan OfflineTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan ActiveWindow = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a remote user's presence holds without word from his server. Servers push a change
    /// when it happens and nothing in between, so this is long: an idle user's server need not
    /// repeat itself often, while a server that vanished does not leave him online for ever.
    /// </summary>
    public static readonly TimeSpan RemoteTimeout = TimeSpan.FromMinutes(30);

    private readonly KvStore _store;
    private readonly KvTree _presence;
    private readonly KvTree _changes;
    private readonly RoomAccess _rooms;
    private readonly ProfileService _profiles;
    private readonly TimeProvider _time;
    private readonly Deadlines<string> _deadlines;
    private readonly ChangeSignals _signals = new();
    private readonly string _serverName;

    /// <summary>Serializes changes (their commits included, so the log never holds two entries for one user).</summary>
    private readonly Lock _gate = new();

    /// <summary>The state of each user read so far; replaced (never mutated) before a change commits.</summary>
    private readonly ConcurrentDictionary<string, PresenceState> _states = new(StringComparer.Ordinal);

    /// <summary>Syncs in progress and the time the user was last seen, per user; under <see cref="_gate"/>.</summary>
    private readonly Dictionary<string, Seen> _seen = new(StringComparer.Ordinal);

    public PresenceService(KvStore store, RoomAccess rooms, ProfileService profiles, ServerConfig config, TimeProvider time, ILogger<PresenceService> logger)
    {
        _serverName = config.ServerName;
        _store = store;
        _presence = store.Tree(Trees.Presence);
        _changes = store.Tree(Trees.PresenceChanges);
        _rooms = rooms;
        _profiles = profiles;
        _time = time;
        _deadlines = new Deadlines<string>(time, Reevaluate, e => logger.LogError(e, "Presence timeouts failed."), StringComparer.Ordinal);

        // Local users left online or idle by the last run go offline unless they sync again soon;
        // remote users keep what their server last told until RemoteTimeout after it told it.
        var now = time.GetUtcNow();
        foreach (var (key, value) in _presence.ScanPrefix([]))
        {
            var state = PresenceState.Decode(value);
            var userId = KeyCodec.ReadUtf8(key);
            if (state.Presence == Offline)
                continue;
            _states[userId] = state;
            if (!IsLocal(userId))
            {
                _deadlines.Set(userId, DateTimeOffset.FromUnixTimeMilliseconds(state.UpdatedTs) + RemoteTimeout);
                continue;
            }
            lock (_gate)
                _seen[userId] = new Seen { LastSeen = now };
            _deadlines.Set(userId, now + OfflineTimeout);
        }
    }

    /// <summary>
    /// <c>PUT /presence/{userId}/status</c>: only for oneself (<c>M_FORBIDDEN</c>); the state must
    /// be one of the three (<c>M_INVALID_PARAM</c>). No message clears the message.
    /// </summary>
    public void SetStatus(string requesterUserId, string userId, string presence, string? statusMessage)
    {
        if (requesterUserId != userId)
            throw MatrixException.Forbidden("You cannot set the presence of another user.");
        if (presence is not (Online or Unavailable or Offline))
            throw MatrixException.InvalidParam("presence must be online, unavailable or offline.");
        Change(userId, (state, seen, now) =>
        {
            seen.LastSeen = now;
            return state with { Presence = presence, StatusMessage = statusMessage, LastActiveTs = now.ToUnixTimeMilliseconds() };
        });
    }

    /// <summary>
    /// <c>GET /presence/{userId}/status</c>: the requester's own presence, or that of a user they
    /// share a room with (<c>M_FORBIDDEN</c> otherwise). A user who never had any reads as offline.
    /// </summary>
    public JsonObject GetStatus(string requesterUserId, string userId)
    {
        if (!UserId.TryParse(userId, out _))
            throw MatrixException.InvalidParam($"{userId} is not a valid user id.");
        if (requesterUserId != userId && !SharesRoom(userId, [.. _rooms.JoinedRooms(requesterUserId)]))
            throw MatrixException.Forbidden("You are not allowed to see this user's presence.");
        return Content(State(userId), withProfile: false);
    }

    /// <summary>
    /// Marks the start of a <c>/sync</c> by <paramref name="userId"/> with its <c>set_presence</c>
    /// (null: <c>online</c>); dispose the result when the sync has answered. While a sync is in
    /// progress the user does not time out to offline; <see cref="OfflineTimeout"/> counts from the
    /// end of the last one.
    /// </summary>
    public IDisposable BeginSync(string userId, string? setPresence)
    {
        if (setPresence is not (null or Online or Unavailable or Offline))
            throw MatrixException.InvalidParam("set_presence must be online, unavailable or offline.");
        Change(userId, (state, seen, now) =>
        {
            seen.Syncs++;
            seen.LastSeen = now;
            return (setPresence ?? Online, state.Presence) switch
            {
                (Online, Offline) => state with { Presence = Online, LastActiveTs = now.ToUnixTimeMilliseconds() },
                (Unavailable, not Unavailable) => state with { Presence = Unavailable },
                _ => state,
            };
        });
        return new SyncScope(this, userId);
    }

    /// <summary>Something the user did (sending an event, say): the last active time moves and an idle user is online again.</summary>
    public void MarkActive(string userId) =>
        Change(userId, (state, seen, now) =>
        {
            seen.LastSeen = now;
            return state with { Presence = Online, LastActiveTs = now.ToUnixTimeMilliseconds() };
        });

    /// <summary>A local user's presence was published (after its commit, outside any lock): the federation side tells the servers sharing a room with them.</summary>
    public event Action<string>? LocalChange;

    /// <summary>
    /// The user's presence as an <c>m.presence</c> EDU pushes it (server-server "Presence"):
    /// <c>user_id</c>, <c>presence</c>, <c>last_active_ago</c> (since the epoch for a user never
    /// active), <c>status_msg</c> when set and <c>currently_active</c> when online.
    /// </summary>
    public JsonObject PresenceUpdate(string userId)
    {
        var state = State(userId);
        var content = Content(state, withProfile: false);
        content["user_id"] = userId;
        content["last_active_ago"] = Math.Max(0, _time.GetUtcNow().ToUnixTimeMilliseconds() - state.LastActiveTs);
        return content;
    }

    /// <summary>
    /// A remote user's presence as his server pushed it (an <c>m.presence</c> EDU; the caller checked
    /// that he belongs to the origin), stored and published to the local users who share a room
    /// with him, and served by <c>GET /presence</c>. Kept as told: the local timeouts are for local
    /// users, and his server tells of the next change; without word for <see cref="RemoteTimeout"/>
    /// he is offline. Kept also for a user who shares no room here (yet): his server tells the
    /// current presence to a server that newly shares a room with him once the join commits there,
    /// which is often before the send_join answer has made the join commit here. Ignored for a
    /// state that is not one of the three.
    /// </summary>
    public void ReceiveRemote(string userId, string presence, string? statusMessage, long lastActiveAgo, bool currentlyActive)
    {
        if (IsLocal(userId) || presence is not (Online or Unavailable or Offline))
            return;
        var now = _time.GetUtcNow();
        var lastActiveTs = now.ToUnixTimeMilliseconds() - Math.Max(0, lastActiveAgo);
        bool published;
        lock (_gate)
        {
            var state = new PresenceState(presence, statusMessage, lastActiveTs, presence == Online && currentlyActive, 0, now.ToUnixTimeMilliseconds());
            published = StoreLocked(userId, state, persistUnpublished: true);
            if (presence == Offline)
                _deadlines.Remove(userId);
            else
                _deadlines.Set(userId, now + RemoteTimeout);
        }
        if (published)
            Signal(userId);
    }

    /// <summary>
    /// Stream read for sync: an <c>m.presence</c> event (<c>{"type", "sender", "content"}</c>, the
    /// content with the display name and avatar) for each user whose presence changed at a position
    /// in (<paramref name="since"/>, <paramref name="upTo"/>] and who is <paramref name="userId"/> or
    /// shares one of <paramref name="joinedRooms"/> (the syncing user's joined rooms), oldest
    /// change first. <paramref name="since"/> 0 gives every such user's presence (an initial sync).
    /// </summary>
    /// <remarks>
    /// <paramref name="upTo"/> is the store's <see cref="KvStore.CommittedCount"/> read once per
    /// sync; a change after it is left for the next sync. Users who newly share a room with the
    /// syncing user are not reported here unless their presence changed: sync adds theirs for a
    /// newly joined room.
    /// </remarks>
    public IReadOnlyList<JsonObject> ChangesSince(string userId, IReadOnlyCollection<string> joinedRooms, ulong since, ulong upTo)
    {
        List<JsonObject> events = [];
        if (upTo <= since)
            return events;
        var rooms = joinedRooms as IReadOnlySet<string> ?? new HashSet<string>(joinedRooms, StringComparer.Ordinal);
        foreach (var (_, value) in _changes.ScanRange(KeyCodec.U64(since + 1), KeyCodec.U64(upTo + 1)))
        {
            var other = KeyCodec.ReadUtf8(value);
            if (other == userId || SharesRoom(other, rooms))
                events.Add(PresenceEvent(other));
        }
        return events;
    }

    /// <summary>The <c>m.presence</c> event of a user as sync lists it, for sync's own additions (members of a newly joined room).</summary>
    public JsonObject PresenceEvent(string userId) => new()
    {
        ["type"] = "m.presence",
        ["sender"] = userId,
        ["content"] = Content(State(userId), withProfile: true, userId),
    };

    /// <summary>
    /// Completes when the presence of <paramref name="userId"/> or of a member of one of
    /// <paramref name="joinedRooms"/> changes after this call (one-shot). Sync calls it before
    /// <see cref="ChangesSince"/> and awaits it only when that found nothing; the change it wakes
    /// for may be one the read already saw. Cancel the token when done waiting: that removes the wait.
    /// </summary>
    public Task Watch(string userId, IEnumerable<string> joinedRooms, CancellationToken cancellationToken) =>
        _signals.Wait(joinedRooms.Append(userId), cancellationToken);

    private bool SharesRoom(string otherUserId, IReadOnlyCollection<string> rooms)
    {
        if (rooms.Count == 0)
            return false;
        var set = rooms as IReadOnlySet<string> ?? new HashSet<string>(rooms, StringComparer.Ordinal);
        return _rooms.JoinedRooms(otherUserId).Any(set.Contains);
    }

    private JsonObject Content(PresenceState state, bool withProfile, string? userId = null)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var content = new JsonObject { ["presence"] = state.Presence };
        if (state.LastActiveTs > 0)
            content["last_active_ago"] = Math.Max(0, now - state.LastActiveTs);
        if (state.StatusMessage is not null)
            content["status_msg"] = state.StatusMessage;
        if (state.Presence == Online)
            content["currently_active"] = state.CurrentlyActive;
        if (withProfile && userId is not null && UserId.TryParse(userId, out var parsed))
        {
            try
            {
                var profile = _profiles.GetProfile(parsed);
                foreach (var field in new[] { ProfileService.DisplayName, ProfileService.AvatarUrl })
                {
                    if (profile[field] is JsonValue value && value.GetValueKind() == JsonValueKind.String)
                        content[field] = value.GetValue<string>();
                }
            }
            catch (MatrixException e) when (e.Code == ErrorCode.NotFound)
            {
                // No profile (a remote user, or one without any field): the event goes without it.
            }
        }
        return content;
    }

    private PresenceState State(string userId) =>
        _states.TryGetValue(userId, out var state)
            ? state
            : _presence.Get(KeyCodec.Utf8(userId)) is { } value ? PresenceState.Decode(value) : PresenceState.Initial;

    /// <summary>
    /// Applies <paramref name="change"/> to the user's state and their <see cref="Seen"/>, then the
    /// timeouts; publishes (new position, log entry, wake-ups) when the state, message or
    /// <c>currently_active</c> differ from what was published, and sets the user's next deadline.
    /// </summary>
    private void Change(string userId, Func<PresenceState, Seen, DateTimeOffset, PresenceState> change)
    {
        bool published;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (!_seen.TryGetValue(userId, out var seen))
                _seen[userId] = seen = new Seen { LastSeen = now };
            var after = ApplyTimeouts(change(State(userId), seen, now), seen, now);
            published = StoreLocked(userId, after, persistUnpublished: false);
            ScheduleLocked(userId, _states[userId], seen, now);
        }
        if (published)
        {
            Signal(userId);
            LocalChange?.Invoke(userId);
        }
    }

    /// <summary>
    /// Stores <paramref name="after"/> as the user's state; publishes it (new position, log entry)
    /// when the state, message or <c>currently_active</c> differ from what was published, and
    /// returns whether it did. A newer last active time alone is kept in memory only, or also
    /// written with <paramref name="persistUnpublished"/>.
    /// </summary>
    private bool StoreLocked(string userId, PresenceState after, bool persistUnpublished)
    {
        var before = State(userId);
        var published = after.Presence != before.Presence || after.StatusMessage != before.StatusMessage || after.CurrentlyActive != before.CurrentlyActive;
        if (published || persistUnpublished)
        {
            using var batch = new WriteBatch();
            if (published)
            {
                var position = _store.NextCount(batch);
                after = after with { Position = position };
                if (before.Position != 0)
                    batch.Remove(_changes, KeyCodec.U64(before.Position));
                batch.Put(_changes, KeyCodec.U64(position), KeyCodec.Utf8(userId));
            }
            else
            {
                after = after with { Position = before.Position };
            }
            batch.Put(_presence, KeyCodec.Utf8(userId), after.Encode());
            _states[userId] = after;
            _store.Commit(batch);
        }
        else
        {
            _states[userId] = after;
        }
        return published;
    }

    /// <summary>Wakes the syncs waiting on the user or on one of their rooms.</summary>
    private void Signal(string userId)
    {
        _signals.Signal(userId);
        foreach (var roomId in _rooms.JoinedRooms(userId))
            _signals.Signal(roomId);
    }

    private bool IsLocal(string userId) =>
        UserId.TryParse(userId, out var parsed) && parsed.Server.Value == _serverName;

    private static PresenceState ApplyTimeouts(PresenceState state, Seen seen, DateTimeOffset now)
    {
        var lastActive = DateTimeOffset.FromUnixTimeMilliseconds(state.LastActiveTs);
        if (state.Presence == Online && now - lastActive >= IdleTimeout)
            state = state with { Presence = Unavailable };
        if (state.Presence != Offline && seen.Syncs == 0 && now - seen.LastSeen >= OfflineTimeout)
            state = state with { Presence = Offline };
        return state with { CurrentlyActive = state.Presence == Online && now - lastActive < ActiveWindow };
    }

    private void ScheduleLocked(string userId, PresenceState state, Seen seen, DateTimeOffset now)
    {
        var lastActive = DateTimeOffset.FromUnixTimeMilliseconds(state.LastActiveTs);
        DateTimeOffset? next = null;
        if (state.Presence == Online)
            next = state.CurrentlyActive ? lastActive + ActiveWindow : lastActive + IdleTimeout;
        if (state.Presence != Offline && seen.Syncs == 0 && (next is null || seen.LastSeen + OfflineTimeout < next))
            next = seen.LastSeen + OfflineTimeout;
        if (next is { } due)
        {
            _deadlines.Set(userId, due > now ? due : now);
            return;
        }
        _deadlines.Remove(userId);
        if (state.Presence == Offline && seen.Syncs == 0)
            _seen.Remove(userId);
    }

    private void Reevaluate(IReadOnlyList<string> userIds)
    {
        foreach (var userId in userIds)
        {
            if (IsLocal(userId))
                Change(userId, (state, _, _) => state);
            else
                TimeOutRemote(userId);
        }
    }

    /// <summary>A remote user's <see cref="RemoteTimeout"/> fell due: offline, unless his server spoke since.</summary>
    private void TimeOutRemote(string userId)
    {
        bool published;
        lock (_gate)
        {
            var state = State(userId);
            var now = _time.GetUtcNow();
            if (state.Presence == Offline || now - DateTimeOffset.FromUnixTimeMilliseconds(state.UpdatedTs) < RemoteTimeout)
                return;
            published = StoreLocked(userId, state with { Presence = Offline, CurrentlyActive = false }, persistUnpublished: true);
        }
        if (published)
            Signal(userId);
    }

    private void EndSync(string userId) =>
        Change(userId, (state, seen, now) =>
        {
            seen.Syncs = Math.Max(0, seen.Syncs - 1);
            seen.LastSeen = now;
            return state;
        });

    public void Dispose() => _deadlines.Dispose();

    /// <summary>What the server saw of a user lately: syncs in progress and the last time they were seen.</summary>
    private sealed class Seen
    {
        public int Syncs { get; set; }

        public DateTimeOffset LastSeen { get; set; }
    }

    private sealed class SyncScope(PresenceService owner, string userId) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                owner.EndSync(userId);
        }
    }

    /// <summary>
    /// A user's presence as last published (plus the last active time, which moves without
    /// publishing); for a remote user, when his server last told it (<see cref="UpdatedTs"/>).
    /// </summary>
    private sealed record PresenceState(string Presence, string? StatusMessage, long LastActiveTs, bool CurrentlyActive, ulong Position, long UpdatedTs = 0)
    {
        public static readonly PresenceState Initial = new(Offline, null, 0, false, 0);

        public byte[] Encode()
        {
            var json = new JsonObject
            {
                ["presence"] = Presence,
                ["status_msg"] = StatusMessage,
                ["last_active_ts"] = LastActiveTs,
                ["currently_active"] = CurrentlyActive,
                ["position"] = Position,
                ["updated_ts"] = UpdatedTs,
            };
            return KeyCodec.Utf8(json.ToJsonString());
        }

        public static PresenceState Decode(byte[] value)
        {
            var json = JsonNode.Parse(value)!.AsObject();
            return new PresenceState(
                (string)json["presence"]!,
                (string?)json["status_msg"],
                (long)json["last_active_ts"]!,
                (bool)json["currently_active"]!,
                (ulong)json["position"]!,
                (long?)json["updated_ts"] ?? 0);
        }
    }
}
