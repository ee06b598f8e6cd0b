using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.AccountData;
using Conduit.Net.Services.Ephemeral;
using Conduit.Net.Services.Federation;
using Conduit.Net.Services.Notifications;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Receipts;

/// <summary>
/// Read receipts (spec "Receipts": <c>m.read</c>, <c>m.read.private</c>, threaded) and the fully
/// read marker (spec "Fully read markers", kept as <c>m.fully_read</c> room account data).
/// </summary>
/// <remarks>
/// A receipt is stored per (room, user, receipt type, thread) in <see cref="Trees.Receipts"/>, one
/// event each, and a receipt or marker only ever moves forward in the timeline: one for an earlier
/// event than the stored one (another device lagging behind) is accepted and changes nothing. Each
/// room's changes are logged by position in <see cref="Trees.ReceiptChanges"/>, each receipt once,
/// at its latest write. <c>m.read.private</c> receipts reach nobody but their owner.
/// </remarks>
public sealed class ReceiptService
{
    public const string Read = "m.read";
    public const string ReadPrivate = "m.read.private";
    public const string FullyRead = "m.fully_read";

    /// <summary>The thread id of the main timeline in threaded receipts.</summary>
    public const string MainThread = "main";

    private readonly KvStore _store;
    private readonly KvTree _receipts;
    private readonly KvTree _changes;
    private readonly RoomAccess _rooms;
    private readonly FederationSender _federation;
    private readonly AccountDataService _accountData;
    private readonly TimeProvider _time;
    private readonly NotificationService _notifications;

    /// <summary>
    /// The position of each room's latest receipt change, so that a sync skips rooms without news
    /// with no read. Loaded per room on first use; a write raises it before its commit, so it is
    /// never below a committed change.
    /// </summary>
    private readonly ConcurrentDictionary<string, ulong> _lastChange = new(StringComparer.Ordinal);

    /// <summary>Serializes the read-compare-write of receipts, striped by room.</summary>
    private readonly Lock[] _stripes = [.. Enumerable.Range(0, 64).Select(_ => new Lock())];

    public ReceiptService(KvStore store, RoomAccess rooms, AccountDataService accountData, TimeProvider time, NotificationService notifications, FederationSender federation)
    {
        _federation = federation;
        _notifications = notifications;
        _store = store;
        _receipts = store.Tree(Trees.Receipts);
        _changes = store.Tree(Trees.ReceiptChanges);
        _rooms = rooms;
        _accountData = accountData;
        _time = time;
    }

    /// <summary>
    /// <c>POST /rooms/{roomId}/receipt/{receiptType}/{eventId}</c>: <c>m.read</c> and
    /// <c>m.read.private</c> (optionally in a thread: <c>main</c> or a thread root's event id), or
    /// <c>m.fully_read</c>, which moves the read marker instead. Only room members may send receipts
    /// (<c>M_FORBIDDEN</c>); the event must be one of the room's that the user can see
    /// (<c>M_NOT_FOUND</c>).
    /// </summary>
    public void SetReceipt(string userId, string roomId, string receiptType, string eventId, string? threadId)
    {
        if (receiptType is not (Read or ReadPrivate or FullyRead))
            throw MatrixException.InvalidParam($"Unknown receipt type {receiptType}: use m.read, m.read.private or m.fully_read.");
        if (threadId is not null)
        {
            if (receiptType == FullyRead)
                throw MatrixException.InvalidParam("thread_id cannot be given for m.fully_read.");
            if (threadId != MainThread && !EventId.TryParse(threadId, out _))
                throw MatrixException.InvalidParam("thread_id must be \"main\" or the event id of a thread root.");
        }
        CheckRoom(roomId, userId);
        var position = EventPosition(roomId, userId, eventId);
        if (receiptType == FullyRead)
            MoveFullyRead(userId, roomId, eventId, position);
        else
            Store(userId, roomId, receiptType, threadId, eventId, position);
        if (receiptType == Read)
            SendOut(userId, roomId, eventId, threadId);
    }

    /// <summary>
    /// An <c>m.read</c> receipt from an <c>m.receipt</c> EDU, whose origin was checked to be the user's
    /// server: stored when the user is joined to the room and may see the event, ignored otherwise.
    /// </summary>
    public void SetRemoteReceipt(string userId, string roomId, string eventId, string? threadId)
    {
        if (_rooms.IsJoined(roomId, userId) && _rooms.VisibleEventPosition(roomId, userId, eventId) is { } position)
            Store(userId, roomId, Read, threadId, eventId, position);
    }

    /// <summary>
    /// <c>POST /rooms/{roomId}/read_markers</c>: moves the fully read marker and/or the
    /// <c>m.read</c> and <c>m.read.private</c> receipts, with the rules of <see cref="SetReceipt"/>;
    /// every event is checked before anything is written.
    /// </summary>
    public void SetReadMarkers(string userId, string roomId, string? fullyRead, string? read, string? readPrivate)
    {
        CheckRoom(roomId, userId);
        var fullyReadPosition = fullyRead is null ? 0 : EventPosition(roomId, userId, fullyRead);
        var readPosition = read is null ? 0 : EventPosition(roomId, userId, read);
        var privatePosition = readPrivate is null ? 0 : EventPosition(roomId, userId, readPrivate);
        if (fullyRead is not null)
            MoveFullyRead(userId, roomId, fullyRead, fullyReadPosition);
        if (read is not null)
        {
            Store(userId, roomId, Read, null, read, readPosition);
            SendOut(userId, roomId, read, null);
        }
        if (readPrivate is not null)
            Store(userId, roomId, ReadPrivate, null, readPrivate, privatePosition);
    }

    /// <summary>
    /// Stream read for sync: for each room of <paramref name="roomIds"/> with receipts written at
    /// positions in (<paramref name="since"/>, <paramref name="upTo"/>], <c>m.receipt</c> events
    /// (<c>{"type", "content": {eventId: {receiptType: {userId: {"ts", "thread_id"?}}}}}</c>) with
    /// those receipts as they are now, one event per thread (the unthreaded receipts first), as the
    /// spec batches them: a user's receipts in two threads may point at the same event, which one
    /// content cannot hold. <c>m.read.private</c> only when it is <paramref name="userId"/>'s own.
    /// <paramref name="since"/> 0 gives every receipt (an initial sync).
    /// </summary>
    /// <remarks>
    /// <paramref name="upTo"/> is the store's <see cref="KvStore.CommittedCount"/> read once per
    /// sync; a receipt rewritten after it is left for the next sync. Rooms without a change since
    /// <paramref name="since"/> cost no read.
    /// </remarks>
    public IReadOnlyDictionary<string, IReadOnlyList<JsonObject>> ChangesSince(string userId, IEnumerable<string> roomIds, ulong since, ulong upTo)
    {
        Dictionary<string, IReadOnlyList<JsonObject>> events = new(StringComparer.Ordinal);
        if (upTo <= since)
            return events;
        foreach (var roomId in roomIds)
        {
            if (LastChange(roomId) <= since)
                continue;
            var byThread = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
            foreach (var (_, value) in _changes.ScanRange(ChangeKey(roomId, since + 1), ChangeKey(roomId, upTo + 1)))
            {
                var parts = KeyCodec.SplitUtf8(value);
                var (user, type, thread) = (parts[0], parts[1], parts[2]);
                if (type == ReadPrivate && user != userId)
                    continue;
                if (_receipts.Get(ReceiptKey(roomId, user, type, thread)) is not { } stored)
                    continue;
                var record = ReceiptRecord.Decode(stored);
                var receipt = new JsonObject { ["ts"] = record.Ts };
                if (thread.Length > 0)
                    receipt["thread_id"] = thread;
                if (!byThread.TryGetValue(thread, out var content))
                    byThread[thread] = content = [];
                var byType = content[record.EventId] as JsonObject ?? (JsonObject)(content[record.EventId] = new JsonObject());
                var byUser = byType[type] as JsonObject ?? (JsonObject)(byType[type] = new JsonObject());
                byUser[user] = receipt;
            }
            if (byThread.Count > 0)
                events[roomId] = [.. byThread.Values.Select(content => new JsonObject { ["type"] = "m.receipt", ["content"] = content })];
        }
        return events;
    }

    /// <summary>
    /// Completes when a receipt in one of <paramref name="roomIds"/> is written after this call
    /// (one-shot). Sync calls it before <see cref="ChangesSince"/> and awaits it only when that found
    /// nothing; the write it wakes for may be one the read already saw, or a private receipt of
    /// another user. Cancel the token when done waiting: that removes the watches.
    /// </summary>
    public Task Watch(IEnumerable<string> roomIds, CancellationToken cancellationToken)
    {
        var watches = roomIds.Select(roomId => _store.WatchPrefix(_changes, KeyCodec.Prefix(roomId), cancellationToken)).ToList();
        return watches.Count == 0 ? Task.Delay(Timeout.Infinite, cancellationToken) : Task.WhenAny(watches);
    }

    /// <summary>A public receipt goes to the other servers in the room as an <c>m.receipt</c> EDU.</summary>
    private void SendOut(string userId, string roomId, string eventId, string? threadId)
    {
        var servers = _federation.ServersInRoom(roomId);
        if (servers.Count == 0)
            return;
        var data = new JsonObject { ["ts"] = _time.GetUtcNow().ToUnixTimeMilliseconds() };
        if (threadId is not null)
            data["thread_id"] = threadId;
        var receipt = new JsonObject { ["event_ids"] = new JsonArray(JsonValue.Create(eventId)), ["data"] = data };
        _federation.EnqueueEdu(servers, "m.receipt", new JsonObject
        {
            [roomId] = new JsonObject { [Read] = new JsonObject { [userId] = receipt } },
        });
    }

    private void CheckRoom(string roomId, string userId)
    {
        if (!RoomId.TryParse(roomId, out _))
            throw MatrixException.InvalidParam($"{roomId} is not a valid room id.");
        if (!_rooms.IsJoined(roomId, userId))
            throw MatrixException.Forbidden("You are not joined to this room.");
    }

    private long EventPosition(string roomId, string userId, string eventId)
    {
        if (!EventId.TryParse(eventId, out _))
            throw MatrixException.InvalidParam($"{eventId} is not a valid event id.");
        return _rooms.VisibleEventPosition(roomId, userId, eventId)
            ?? throw MatrixException.NotFound("Event not found in this room.");
    }

    private void MoveFullyRead(string userId, string roomId, string eventId, long position) =>
        _accountData.Update(userId, roomId, AccountDataService.FullyRead, current =>
        {
            var previous = (current?["event_id"] as JsonValue)?.TryGetValue<string>(out var id) == true ? id : null;
            if (previous == eventId || (previous is not null && _rooms.VisibleEventPosition(roomId, userId, previous) is { } old && old > position))
                return null;
            return new JsonObject { ["event_id"] = eventId };
        });

    /// <summary>
    /// Stores the receipt when it moves forward, then clears the notifications it reads. That is a
    /// commit of its own: a crash between the two leaves the counts as they were until the next receipt.
    /// </summary>
    private void Store(string userId, string roomId, string receiptType, string? threadId, string eventId, long position)
    {
        var thread = threadId ?? "";
        var key = ReceiptKey(roomId, userId, receiptType, thread);
        lock (_stripes[(uint)StringComparer.Ordinal.GetHashCode(roomId) % (uint)_stripes.Length])
        {
            var existing = _receipts.Get(key) is { } bytes ? ReceiptRecord.Decode(bytes) : null;
            if (existing is not null && existing.EventPosition >= position)
                return;
            using var batch = new WriteBatch();
            var streamPosition = _store.NextCount(batch);
            if (existing is not null)
                batch.Remove(_changes, ChangeKey(roomId, existing.StreamPosition));
            var record = new ReceiptRecord(streamPosition, position, _time.GetUtcNow().ToUnixTimeMilliseconds(), eventId);
            batch.Put(_receipts, key, record.Encode());
            batch.Put(_changes, ChangeKey(roomId, streamPosition), KeyCodec.Join(userId, receiptType, thread));
            _lastChange.AddOrUpdate(roomId, streamPosition, (_, known) => Math.Max(known, streamPosition));
            _store.Commit(batch);
        }
        _notifications.MarkRead(userId, roomId, threadId, position);
    }

    /// <summary>The position of the room's latest receipt change (0: none), read from the log once per room.</summary>
    private ulong LastChange(string roomId) =>
        _lastChange.GetOrAdd(roomId, static (room, changes) =>
        {
            var prefix = KeyCodec.Prefix(room);
            foreach (var (key, _) in changes.ScanPrefix(prefix, reverse: true))
                return KeyCodec.ReadU64(key.AsSpan(prefix.Length));
            return 0;
        }, _changes);

    private static byte[] ReceiptKey(string roomId, string userId, string receiptType, string thread) =>
        KeyCodec.Join(roomId, userId, receiptType, thread);

    private static byte[] ChangeKey(string roomId, ulong position) => [.. KeyCodec.Prefix(roomId), .. KeyCodec.U64(position)];

    /// <summary>
    /// Value of <c>receipts</c>: u64 stream position of the write, i64 timeline position of the
    /// event, i64 timestamp (ms), UTF-8 event id.
    /// </summary>
    private sealed record ReceiptRecord(ulong StreamPosition, long EventPosition, long Ts, string EventId)
    {
        public byte[] Encode()
        {
            var id = KeyCodec.Utf8(EventId);
            var bytes = new byte[24 + id.Length];
            BinaryPrimitives.WriteUInt64BigEndian(bytes, StreamPosition);
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(8), EventPosition);
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(16), Ts);
            id.CopyTo(bytes, 24);
            return bytes;
        }

        public static ReceiptRecord Decode(byte[] bytes) => new(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(8)),
            BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(16)),
            KeyCodec.ReadUtf8(bytes.AsSpan(24)));
    }
}
