using System.Buffers.Binary;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Notifications;

/// <summary>What an event does for one user: nothing, notify, or notify and highlight.</summary>
[Flags]
internal enum NotifyFlags : byte
{
    None = 0,
    Notify = 1,
    Highlight = 2,
}

/// <summary>
/// Where notification counts live, written per event rather than per member: an event records the
/// outcome most of the room's local members got (the "common" outcome) once, for the room, and
/// only the members whose outcome differs (a mention, a display name in the body) get an entry of
/// their own. A user's count in a thread is then the room's notifying events after the user's read
/// position there, corrected by the user's own entries.
/// </summary>
/// <remarks>
/// <para>
/// The room's entries carry running totals per thread (<see cref="Trees.RoomNotifications"/>, with
/// the latest per thread in <see cref="Trees.RoomNotificationThreads"/>), so "how many after
/// position p" is the latest total less the total at p: one index seek per thread, however long the
/// room's history. Only events the user was a joined member for may count, so a user's read
/// position starts at their join (and everything before a leave reads as read).
/// </para>
/// <para>
/// Counts are computed from the store once per (user, room) and kept in memory; each event then
/// adds to the cached counts of the members it was evaluated for, once it is durable, and a read
/// position that moves drops the user's cached counts.
/// </para>
/// </remarks>
internal sealed class UnreadStore
{
    public const string MainThread = "main";

    /// <summary>The thread part of an unthreaded read position: it applies to every thread.</summary>
    private const string Unthreaded = "";

    /// <summary>Read positions set by receipts (<c>m.read</c> and <c>m.read.private</c>: the later one counts).</summary>
    private const string ReceiptSource = "receipt";

    /// <summary>Read positions implied by the user's own events, their joins and their leaves.</summary>
    private const string OwnSource = "own";

    private readonly KvStore _store;
    private readonly KvTree _roomMarks;
    private readonly KvTree _roomThreads;
    private readonly KvTree _userMarks;
    private readonly KvTree _reads;
    private readonly LruCache<string, Dictionary<string, RoomUnread>> _counts = new(10_000);

    /// <summary>
    /// Changes finished, and events under way (recorded into a batch that has not yet committed or
    /// been abandoned), per stripe of rooms. The store shows a batch's writes before its commit
    /// actions add to the cached counts, so counts computed from the store are cached only if no
    /// event of a room of their stripe was under way or finished meanwhile; otherwise the commit
    /// action could count an event the computation already counted.
    /// </summary>
    private readonly long[] _changes = new long[64];
    private readonly long[] _underWay = new long[64];
    private readonly Lock _gate = new();

    /// <summary>Serializes the read-compare-write of a receipt's read position, striped by user.</summary>
    private readonly Lock[] _readStripes = [.. Enumerable.Range(0, 64).Select(_ => new Lock())];

    public UnreadStore(KvStore store)
    {
        _store = store;
        _roomMarks = store.Tree(Trees.RoomNotifications);
        _roomThreads = store.Tree(Trees.RoomNotificationThreads);
        _userMarks = store.Tree(Trees.NotificationMarks);
        _reads = store.Tree(Trees.NotificationReads);
    }

    /// <summary>
    /// Records the event at <paramref name="position"/> in the session's batch: <paramref name="common"/>
    /// for the room when it notifies, and an entry for each of <paramref name="exceptions"/> (members
    /// whose outcome differs). <paramref name="evaluated"/> tells which users the event was evaluated
    /// for (the local joined members but the sender), for the cached counts.
    /// </summary>
    /// <remarks>Called under the room's lock: the running totals are read and written by one append at a time.</remarks>
    public void Record(
        string roomId, string thread, long position, NotifyFlags common,
        IReadOnlyList<(string User, NotifyFlags Flags)> exceptions, Func<string, bool> evaluated, RoomWrite write)
    {
        if (common.HasFlag(NotifyFlags.Notify))
        {
            // Read from the store, not a cache: the room's previous batch may be applied and not yet
            // durable (its lock is released by then), so only the store and this batch know the totals.
            var key = (roomId, thread);
            var overlay = write.Overlay<(string, string), ThreadTotals>(this);
            if (!overlay.TryGetValue(key, out var totals))
                totals = _roomThreads.Get(KeyCodec.Join(roomId, thread)) is { } stored ? ThreadTotals.Decode(stored) : ThreadTotals.None;
            var next = totals.Add(position, common.HasFlag(NotifyFlags.Highlight));
            write.Batch.Put(_roomMarks, RoomMarkKey(roomId, thread, position), next.EncodeMark(common));
            write.Batch.Put(_roomThreads, KeyCodec.Join(roomId, thread), next.Encode());
            overlay[key] = next;
        }
        foreach (var (user, flags) in exceptions)
            write.Batch.Put(_userMarks, UserMarkKey(user, roomId, thread, position), [(byte)flags, (byte)common]);

        var stripe = Stripe(roomId);
        lock (_gate)
            _underWay[stripe]++;
        write.OnAbandon(() =>
        {
            lock (_gate)
            {
                _underWay[stripe]--;
                _changes[stripe]++;
            }
        });
        var byUser = exceptions.Count == 0 ? null : exceptions.ToDictionary(e => e.User, e => e.Flags, StringComparer.Ordinal);
        write.AfterCommit(() =>
        {
            lock (_gate)
            {
                _underWay[stripe]--;
                _changes[stripe]++;
                if (!_counts.TryGet(roomId, out var users))
                    return;
                foreach (var (user, counts) in users.ToList())
                {
                    var flags = byUser is not null && byUser.TryGetValue(user, out var own) ? own
                        : evaluated(user) ? common : NotifyFlags.None;
                    if (flags.HasFlag(NotifyFlags.Notify))
                        users[user] = counts.With(thread, flags.HasFlag(NotifyFlags.Highlight));
                }
            }
        });
    }

    /// <summary>The user's own event at <paramref name="position"/> reads their thread up to it, in the session's batch.</summary>
    public void AddOwnRead(string userId, string roomId, string thread, long position, RoomWrite write)
    {
        write.Batch.Put(_reads, ReadKey(userId, roomId, thread, OwnSource), Position(position));
        write.AfterCommit(() => Invalidate(userId, roomId));
    }

    /// <summary>
    /// The user joined, or left (or was kicked or banned), at <paramref name="position"/>: what came
    /// before reads as read in every thread. Leaving also deletes the user's entries in the room.
    /// </summary>
    public void MembershipChanged(string userId, string roomId, long position, bool left, RoomWrite write)
    {
        write.Batch.Put(_reads, ReadKey(userId, roomId, Unthreaded, OwnSource), Position(position));
        if (left)
        {
            foreach (var (key, _) in _userMarks.ScanPrefix(KeyCodec.Prefix(userId, roomId)))
                write.Batch.Remove(_userMarks, key);
        }
        write.AfterCommit(() => Invalidate(userId, roomId));
    }

    /// <summary>
    /// A receipt (<c>m.read</c> or <c>m.read.private</c>) for the event at <paramref name="position"/>:
    /// unthreaded (<paramref name="thread"/> null) it reads every thread up to there, otherwise only
    /// that thread (<c>main</c> or a thread root). A receipt behind the stored one changes nothing.
    /// Commits on its own, with the user's entries it makes obsolete deleted.
    /// </summary>
    public void MarkRead(string userId, string roomId, string? thread, long position)
    {
        var key = ReadKey(userId, roomId, thread ?? Unthreaded, ReceiptSource);
        lock (_readStripes[(uint)StringComparer.Ordinal.GetHashCode(userId) % (uint)_readStripes.Length])
        {
            if (_reads.Get(key) is { } stored && TimelinePosition.Read(stored) >= position)
                return;
            using var batch = new WriteBatch();
            batch.Put(_reads, key, Position(position));
            var prefix = thread is null ? KeyCodec.Prefix(userId, roomId) : KeyCodec.Prefix(userId, roomId, thread);
            foreach (var (markKey, _) in _userMarks.ScanPrefix(prefix))
            {
                if (TimelinePosition.Read(markKey.AsSpan(markKey.Length - TimelinePosition.Size)) <= position)
                    batch.Remove(_userMarks, markKey);
            }
            _store.Commit(batch);
        }
        Invalidate(userId, roomId);
    }

    /// <summary>The user's unread notifications in the room, by thread.</summary>
    public RoomUnread Get(string userId, string roomId)
    {
        var stripe = Stripe(roomId);
        long changes;
        bool quiet;
        lock (_gate)
        {
            if (_counts.TryGet(roomId, out var users) && users.TryGetValue(userId, out var cached))
                return cached;
            changes = _changes[stripe];
            quiet = _underWay[stripe] == 0;
        }
        var computed = Compute(userId, roomId);
        lock (_gate)
        {
            if (quiet && _underWay[stripe] == 0 && _changes[stripe] == changes)
            {
                if (!_counts.TryGet(roomId, out var users))
                {
                    users = new Dictionary<string, RoomUnread>(StringComparer.Ordinal);
                    _counts.Set(roomId, users);
                }
                users[userId] = computed;
            }
        }
        return computed;
    }

    private RoomUnread Compute(string userId, string roomId)
    {
        var unthreaded = long.MinValue;
        Dictionary<string, long> byThread = new(StringComparer.Ordinal);
        foreach (var (key, value) in _reads.ScanPrefix(KeyCodec.Prefix(userId, roomId)))
        {
            var thread = KeyCodec.SplitUtf8(key)[2];
            var position = TimelinePosition.Read(value);
            if (thread == Unthreaded)
                unthreaded = Math.Max(unthreaded, position);
            else
                byThread[thread] = Math.Max(byThread.GetValueOrDefault(thread, long.MinValue), position);
        }
        long ReadUpTo(string thread) => Math.Max(unthreaded, byThread.GetValueOrDefault(thread, long.MinValue));

        Dictionary<string, UnreadCounts> counts = new(StringComparer.Ordinal);
        void Add(string thread, long notifications, long highlights) =>
            counts[thread] = counts.GetValueOrDefault(thread, UnreadCounts.None).Plus(new UnreadCounts(notifications, highlights));

        var roomPrefix = KeyCodec.Prefix(roomId);
        foreach (var (key, value) in _roomThreads.ScanPrefix(roomPrefix))
        {
            var thread = KeyCodec.ReadUtf8(key.AsSpan(roomPrefix.Length));
            var latest = ThreadTotals.Decode(value);
            var readUpTo = ReadUpTo(thread);
            if (latest.LastPosition <= readUpTo)
                continue;
            var threadPrefix = KeyCodec.Prefix(roomId, thread);
            var read = ThreadTotals.None;
            foreach (var (_, mark) in _roomMarks.ScanRange(threadPrefix, RoomMarkKey(roomId, thread, readUpTo + 1), reverse: true))
            {
                read = ThreadTotals.DecodeMark(mark);
                break;
            }
            Add(thread, latest.Notifications - read.Notifications, latest.Highlights - read.Highlights);
        }

        var userPrefix = KeyCodec.Prefix(userId, roomId);
        foreach (var (key, value) in _userMarks.ScanPrefix(userPrefix))
        {
            var rest = key.AsSpan(userPrefix.Length);
            var thread = KeyCodec.ReadUtf8(rest[..^(TimelinePosition.Size + 1)]);
            if (TimelinePosition.Read(rest[^TimelinePosition.Size..]) <= ReadUpTo(thread))
                continue;
            var own = (NotifyFlags)value[0];
            var common = (NotifyFlags)value[1];
            Add(thread, Count(own, NotifyFlags.Notify) - Count(common, NotifyFlags.Notify),
                Count(own, NotifyFlags.Highlight) - Count(common, NotifyFlags.Highlight));
        }
        return new RoomUnread(counts);
    }

    private static long Count(NotifyFlags flags, NotifyFlags flag) => flags.HasFlag(NotifyFlags.Notify) && flags.HasFlag(flag) ? 1 : 0;

    private void Invalidate(string userId, string roomId)
    {
        lock (_gate)
        {
            _changes[Stripe(roomId)]++;
            if (_counts.TryGet(roomId, out var users))
                users.Remove(userId);
        }
    }

    private int Stripe(string roomId) => (int)((uint)StringComparer.Ordinal.GetHashCode(roomId) % (uint)_changes.Length);

    private static byte[] RoomMarkKey(string roomId, string thread, long position) => WithPosition(KeyCodec.Prefix(roomId, thread), position);

    private static byte[] UserMarkKey(string userId, string roomId, string thread, long position) =>
        WithPosition(KeyCodec.Prefix(userId, roomId, thread), position);

    private static byte[] WithPosition(byte[] prefix, long position)
    {
        var key = new byte[prefix.Length + TimelinePosition.Size];
        prefix.CopyTo(key, 0);
        TimelinePosition.Write(key.AsSpan(prefix.Length), position);
        return key;
    }

    private static byte[] ReadKey(string userId, string roomId, string thread, string source) =>
        KeyCodec.Join(userId, roomId, thread, source);

    private static byte[] Position(long position)
    {
        var bytes = new byte[TimelinePosition.Size];
        TimelinePosition.Write(bytes, position);
        return bytes;
    }

    /// <summary>
    /// A thread's running totals of the room's notifying events: how many (and how many of them
    /// highlighting) up to and including the event at <see cref="LastPosition"/>.
    /// </summary>
    private readonly record struct ThreadTotals(long LastPosition, long Notifications, long Highlights)
    {
        public static ThreadTotals None => new(long.MinValue, 0, 0);

        public ThreadTotals Add(long position, bool highlight) => new(position, Notifications + 1, Highlights + (highlight ? 1 : 0));

        /// <summary>Value of <see cref="Trees.RoomNotificationThreads"/>: position (8, sign-flipped), u64 notifications, u64 highlights.</summary>
        public byte[] Encode()
        {
            var bytes = new byte[24];
            TimelinePosition.Write(bytes, LastPosition);
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(8), Notifications);
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(16), Highlights);
            return bytes;
        }

        public static ThreadTotals Decode(byte[] bytes) => new(
            TimelinePosition.Read(bytes),
            BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(8)),
            BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(16)));

        /// <summary>Value of <see cref="Trees.RoomNotifications"/>: the common outcome's flags (1 byte), u64 notifications, u64 highlights.</summary>
        public byte[] EncodeMark(NotifyFlags flags)
        {
            var bytes = new byte[17];
            bytes[0] = (byte)flags;
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(1), Notifications);
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(9), Highlights);
            return bytes;
        }

        public static ThreadTotals DecodeMark(byte[] bytes) => new(
            long.MinValue,
            BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(1)),
            BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(9)));
    }
}

/// <summary>A user's unread notifications in one room, by thread (<see cref="UnreadStore.MainThread"/> for the main timeline). Immutable.</summary>
internal sealed class RoomUnread(IReadOnlyDictionary<string, UnreadCounts> byThread)
{
    /// <summary>Everything unread in the room, threads included.</summary>
    public UnreadCounts Total => byThread.Values.Aggregate(UnreadCounts.None, (sum, counts) => sum.Plus(counts));

    /// <summary>The main timeline apart, and each thread with something unread.</summary>
    public ThreadedUnreadCounts Threaded => new(
        byThread.GetValueOrDefault(UnreadStore.MainThread, UnreadCounts.None),
        byThread.Where(p => p.Key != UnreadStore.MainThread && !p.Value.IsNone).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal));

    /// <summary>These counts with one more notifying event in <paramref name="thread"/>.</summary>
    public RoomUnread With(string thread, bool highlight)
    {
        var next = new Dictionary<string, UnreadCounts>(byThread, StringComparer.Ordinal);
        next[thread] = next.GetValueOrDefault(thread, UnreadCounts.None).Plus(new UnreadCounts(1, highlight ? 1 : 0));
        return new RoomUnread(next);
    }
}
