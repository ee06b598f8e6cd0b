using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Federation;
using Conduit.Net.Storage;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Ephemeral;

/// <summary>
/// Typing notifications (spec "Typing Notifications"): who is typing in which room, in memory only
/// (the spec's server "does not remember" typing; a restart forgets it). Each typing entry expires
/// at its timeout through one timer (<see cref="Deadlines{TKey}"/>), without polling.
/// </summary>
/// <remarks>
/// Positions come from the global counter like every other stream, so one sync token covers
/// typing too: a change of a room's typing set takes a count and commits it (a batch holding
/// nothing else), so counts stay unique across restarts. Only changes of the set count; renewing
/// the timeout of someone already typing is not news. The state is changed before the count
/// commits, so a reader that sees the count as committed also sees the change.
/// </remarks>
public sealed class TypingService : IDisposable
{
    /// <summary>The timeout when the request gives none.</summary>
    public const long DefaultTimeoutMs = 30_000;

    /// <summary>The longest timeout honoured (Synapse's cap too); clients renew well before it.</summary>
    public const long MaxTimeoutMs = 120_000;

    private readonly KvStore _store;
    private readonly RoomAccess _rooms;
    private readonly FederationSender _federation;
    private readonly TimeProvider _time;
    private readonly Deadlines<(string RoomId, string UserId)> _expiries;
    private readonly ChangeSignals _signals = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RoomTyping> _byRoom = new(StringComparer.Ordinal);

    public TypingService(KvStore store, RoomAccess rooms, FederationSender federation, TimeProvider time, ILogger<TypingService> logger)
    {
        _store = store;
        _rooms = rooms;
        _federation = federation;
        _time = time;
        _expiries = new Deadlines<(string, string)>(time, Expire, e => logger.LogError(e, "Expiring typing notifications failed."));

        // Every sync token handed out before this start is below this position: a sync from such a
        // token learns that the typing it was told about is gone.
        using var batch = new WriteBatch();
        StartPosition = store.NextCount(batch);
        store.Commit(batch);
    }

    /// <summary>The position taken when this service started, after every earlier sync token.</summary>
    public ulong StartPosition { get; }

    /// <summary>
    /// <c>PUT /rooms/{roomId}/typing/{userId}</c>: starts (for <paramref name="timeoutMs"/>, default
    /// 30 s, at most 2 minutes) or stops typing. Only for oneself (<c>M_FORBIDDEN</c>) and only in a
    /// room one is joined to (<c>M_FORBIDDEN</c>).
    /// </summary>
    public void SetTyping(string requesterUserId, string userId, string roomId, bool typing, long? timeoutMs)
    {
        if (requesterUserId != userId)
            throw MatrixException.Forbidden("You cannot set the typing state of another user.");
        if (!RoomId.TryParse(roomId, out _))
            throw MatrixException.InvalidParam($"{roomId} is not a valid room id.");
        if (timeoutMs is < 0)
            throw MatrixException.InvalidParam("timeout must not be negative.");
        if (!_rooms.IsJoined(roomId, userId))
            throw MatrixException.Forbidden("You are not joined to this room.");

        Apply(userId, roomId, typing, timeoutMs);
        _federation.EnqueueEdu(
            _federation.ServersInRoom(roomId),
            "m.typing",
            new JsonObject { ["room_id"] = roomId, ["user_id"] = userId, ["typing"] = typing });
    }

    /// <summary>
    /// An <c>m.typing</c> EDU from another server, whose origin was checked to be the user's server:
    /// applied when the user is joined to the room, for the default timeout (the EDU carries none).
    /// </summary>
    public void SetRemoteTyping(string userId, string roomId, bool typing)
    {
        if (_rooms.IsJoined(roomId, userId))
            Apply(userId, roomId, typing, null);
    }

    private void Apply(string userId, string roomId, bool typing, long? timeoutMs)
    {
        if (!typing)
        {
            _expiries.Remove((roomId, userId));
            Change([roomId], state => state.Typing.Remove(userId));
            return;
        }
        var expiry = _time.GetUtcNow().AddMilliseconds(Math.Min(timeoutMs ?? DefaultTimeoutMs, MaxTimeoutMs));
        Change([roomId], state =>
        {
            var isNew = !state.Typing.ContainsKey(userId);
            state.Typing[userId] = expiry;
            return isNew;
        });
        _expiries.Set((roomId, userId), expiry);
    }

    /// <summary>The users typing in the room now, in user id order.</summary>
    public IReadOnlyList<string> TypingUsers(string roomId)
    {
        lock (_gate)
            return _byRoom.TryGetValue(roomId, out var state) ? Current(state) : [];
    }

    /// <summary>
    /// Stream read for sync: an <c>m.typing</c> event (<c>{"type", "content": {"user_ids"}}</c>) for
    /// each room of <paramref name="roomIds"/> whose typing set changed at a position in
    /// (<paramref name="since"/>, <paramref name="upTo"/>], with the current set. An initial sync
    /// (<paramref name="since"/> 0) gets the rooms where someone is typing; a sync from a token of
    /// before this start (below <see cref="StartPosition"/>) gets every room, so that clients drop
    /// typing that the restart forgot.
    /// </summary>
    /// <remarks>
    /// <paramref name="upTo"/> is the store's <see cref="KvStore.CommittedCount"/> read once per
    /// sync. A room whose latest change is after it is left for the next sync.
    /// </remarks>
    public IReadOnlyDictionary<string, JsonObject> ChangesSince(IEnumerable<string> roomIds, ulong since, ulong upTo)
    {
        Dictionary<string, JsonObject> events = new(StringComparer.Ordinal);
        var beforeStart = since != 0 && since < StartPosition;
        lock (_gate)
        {
            foreach (var roomId in roomIds)
            {
                _byRoom.TryGetValue(roomId, out var state);
                var changed = state is not null && state.Position > since && state.Position <= upTo;
                if (since == 0)
                    changed = state is not null && state.Typing.Count > 0 && state.Position <= upTo;
                if (changed || beforeStart)
                    events[roomId] = TypingEvent(state is null ? [] : Current(state));
            }
        }
        return events;
    }

    /// <summary>
    /// Completes when the typing set of one of <paramref name="roomIds"/> changes after this call
    /// (one-shot). Sync calls it before <see cref="ChangesSince"/> and awaits it only when that found
    /// nothing; the change it wakes for may be one the read already saw. Cancel the token when done
    /// waiting: that removes the wait.
    /// </summary>
    public Task Watch(IEnumerable<string> roomIds, CancellationToken cancellationToken) =>
        _signals.Wait(roomIds, cancellationToken);

    /// <summary>The ephemeral event as sync lists it.</summary>
    public static JsonObject TypingEvent(IReadOnlyList<string> userIds) => new()
    {
        ["type"] = "m.typing",
        ["content"] = new JsonObject { ["user_ids"] = new JsonArray([.. userIds.Select(u => (JsonNode)u)]) },
    };

    private void Expire(IReadOnlyList<(string RoomId, string UserId)> due)
    {
        var now = _time.GetUtcNow();
        var rooms = due.Select(d => d.RoomId).Distinct(StringComparer.Ordinal).ToList();
        Change(rooms, state =>
        {
            var changed = false;
            foreach (var (roomId, userId) in due)
            {
                if (_byRoom.TryGetValue(roomId, out var current) && current == state
                    && state.Typing.TryGetValue(userId, out var expiry) && expiry <= now)
                    changed |= state.Typing.Remove(userId);
            }
            return changed;
        });
    }

    /// <summary>
    /// Applies <paramref name="change"/> to each room's typing state; the rooms it changed get a new
    /// position (one count for all), which is committed before their waiters wake.
    /// </summary>
    private void Change(IReadOnlyList<string> roomIds, Func<RoomTyping, bool> change)
    {
        using var batch = new WriteBatch();
        List<string> changed = [];
        lock (_gate)
        {
            ulong position = 0;
            foreach (var roomId in roomIds)
            {
                if (!_byRoom.TryGetValue(roomId, out var state))
                    _byRoom[roomId] = state = new RoomTyping();
                if (!change(state))
                {
                    if (state.Typing.Count == 0 && state.Position == 0)
                        _byRoom.Remove(roomId);
                    continue;
                }
                if (position == 0)
                    position = _store.NextCount(batch);
                state.Position = position;
                changed.Add(roomId);
            }
        }
        if (changed.Count == 0)
            return;
        _store.Commit(batch);
        foreach (var roomId in changed)
            _signals.Signal(roomId);
    }

    private IReadOnlyList<string> Current(RoomTyping state)
    {
        var now = _time.GetUtcNow();
        return [.. state.Typing.Where(t => t.Value > now).Select(t => t.Key).Order(StringComparer.Ordinal)];
    }

    public void Dispose() => _expiries.Dispose();

    /// <summary>One room's typing users with their expiry, and the position of the last change.</summary>
    private sealed class RoomTyping
    {
        public Dictionary<string, DateTimeOffset> Typing { get; } = new(StringComparer.Ordinal);

        public ulong Position { get; set; }
    }
}
