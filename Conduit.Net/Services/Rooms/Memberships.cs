using System.Buffers.Binary;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Rooms;

/// <summary>A user's membership in a room as the index holds it.</summary>
/// <param name="Position">Timeline position of the membership event.</param>
/// <param name="Forgotten">The user forgot the room after leaving it.</param>
public sealed record MembershipRecord(string Membership, long Position, ulong ShortEventId, bool Forgotten);

/// <summary>One room in a user's room list.</summary>
public sealed record UserRoom(string RoomId, string Membership, long Position, ulong ShortEventId);

/// <summary>One change of a user's membership, in stream order.</summary>
public sealed record MembershipChange(long Position, string RoomId, string Membership);

/// <summary>
/// Membership indexes, written with every <c>m.room.member</c> event so that joined rooms, member
/// lists, member counts, sync and auth are index reads rather than timeline scans:
/// room → user (point look-ups), room → users by membership, user → rooms by membership, each
/// user's membership changes by position, and room → servers with joined users (with their counts).
/// </summary>
public sealed class Memberships
{
    public const string Join = "join";
    public const string Invite = "invite";
    public const string Leave = "leave";
    public const string Ban = "ban";
    public const string Knock = "knock";

    private readonly KvStore _store;
    private readonly KvTree _roomUser;
    private readonly KvTree _roomMembership;
    private readonly KvTree _userRooms;
    private readonly KvTree _userChanges;
    private readonly KvTree _roomServers;

    /// <summary>Members per membership, per room: exact, because every change goes through <see cref="Record"/>.</summary>
    private readonly LruCache<ulong, Dictionary<string, int>> _counts = new(20_000);

    /// <summary>
    /// Membership changes finished, and changes under way (written into a batch that has not yet
    /// committed or been abandoned), per stripe of rooms. The store shows a batch's writes before its
    /// commit actions adjust the cached counts, so a count scanned from the store is cached only if no
    /// change to a room of its stripe was under way or finished during the scan; otherwise the scan
    /// could count a change that its commit action then counts again, or miss one for good.
    /// </summary>
    private readonly long[] _changes = new long[64];
    private readonly long[] _underWay = new long[64];
    private readonly Lock _countsGate = new();

    public Memberships(KvStore store)
    {
        _store = store;
        _roomUser = store.Tree(Trees.RoomUserMembership);
        _roomMembership = store.Tree(Trees.RoomMembershipUsers);
        _userRooms = store.Tree(Trees.UserMembershipRooms);
        _userChanges = store.Tree(Trees.UserMembershipChanges);
        _roomServers = store.Tree(Trees.RoomServerJoined);
        CountJoinedServersOfEarlierStore();
    }

    /// <summary>
    /// Users who were not joined to the room are joined once the write commits (by their join or by
    /// the state an arriving event resolved to), one call per stored event: the federation side tells the
    /// servers that newly share the room the presence of this server's users in it.
    /// </summary>
    public event Action<string, IReadOnlyList<string>, RoomWrite>? Joined;

    /// <summary>Raises <see cref="Joined"/> for the users the write joins to the room.</summary>
    internal void JoinsRecorded(string roomId, IReadOnlyList<string> userIds, RoomWrite write) => Joined?.Invoke(roomId, userIds, write);

    /// <summary>Indexes a membership event: <paramref name="previous"/> is the membership it replaces, if any.</summary>
    public void Record(ulong shortRoomId, string roomId, string userId, string? previous, string membership, long position, ulong shortEventId, RoomWrite write)
    {
        var batch = write.Batch;
        CountJoined(shortRoomId, userId, membership == Join, write);
        batch.Put(_roomUser, RoomUserKey(shortRoomId, userId), EncodeRecord(new MembershipRecord(membership, position, shortEventId, false)));
        if (previous is not null)
        {
            batch.Remove(_roomMembership, RoomMembershipKey(shortRoomId, previous, userId));
            batch.Remove(_userRooms, KeyCodec.Join(userId, previous, roomId));
        }
        batch.Put(_roomMembership, RoomMembershipKey(shortRoomId, membership, userId), []);
        var positionAndEvent = new byte[16];
        TimelinePosition.Write(positionAndEvent, position);
        BinaryPrimitives.WriteUInt64BigEndian(positionAndEvent.AsSpan(8), shortEventId);
        batch.Put(_userRooms, KeyCodec.Join(userId, membership, roomId), positionAndEvent);
        batch.Put(_userChanges, UserChangeKey(userId, position), KeyCodec.Join(roomId, membership));

        var stripe = shortRoomId % (ulong)_changes.Length;
        lock (_countsGate)
            _underWay[stripe]++;
        write.OnAbandon(() =>
        {
            lock (_countsGate)
            {
                _underWay[stripe]--;
                _changes[stripe]++;
                _counts.Remove(shortRoomId);
            }
        });
        write.AfterCommit(() =>
        {
            lock (_countsGate)
            {
                _underWay[stripe]--;
                _changes[stripe]++;
                if (!_counts.TryGet(shortRoomId, out var counts))
                    return;
                if (previous is not null)
                    counts[previous] = counts.GetValueOrDefault(previous) - 1;
                counts[membership] = counts.GetValueOrDefault(membership) + 1;
            }
        });
    }

    /// <summary>
    /// Marks a room the user has left (or was banned from) as forgotten, and drops it from the user's
    /// room list so that sync no longer reports it. A later membership event clears the mark.
    /// </summary>
    public void Forget(ulong shortRoomId, string roomId, string userId, MembershipRecord record, RoomWrite write)
    {
        write.Batch.Put(_roomUser, RoomUserKey(shortRoomId, userId), EncodeRecord(record with { Forgotten = true }));
        write.Batch.Remove(_userRooms, KeyCodec.Join(userId, record.Membership, roomId));
    }

    /// <summary>The user's membership in the room, or null if they never had one.</summary>
    public MembershipRecord? Get(ulong shortRoomId, string userId) =>
        _roomUser.Get(RoomUserKey(shortRoomId, userId)) is { } value ? DecodeRecord(value) : null;

    /// <summary>Users with <paramref name="membership"/> in the room, in user id byte order.</summary>
    public IEnumerable<string> Members(ulong shortRoomId, string membership)
    {
        var prefix = RoomMembershipKey(shortRoomId, membership, "");
        foreach (var (key, _) in _roomMembership.ScanPrefix(prefix))
            yield return KeyCodec.ReadUtf8(key.AsSpan(prefix.Length));
    }

    /// <summary>The servers with at least one user joined to the room (this one included), in byte order of their names.</summary>
    public IReadOnlyList<string> JoinedServers(ulong shortRoomId)
    {
        var prefix = KeyCodec.U64(shortRoomId);
        return [.. _roomServers.ScanPrefix(prefix).Select(entry => KeyCodec.ReadUtf8(entry.Key.AsSpan(prefix.Length)))];
    }

    /// <summary>How many users have <paramref name="membership"/> in the room.</summary>
    public int Count(ulong shortRoomId, string membership)
    {
        var stripe = shortRoomId % (ulong)_changes.Length;
        long changesBefore;
        lock (_countsGate)
        {
            if (_counts.TryGet(shortRoomId, out var cached))
                return cached.GetValueOrDefault(membership);
            changesBefore = _changes[stripe];
        }
        Dictionary<string, int> counts = [];
        var prefix = KeyCodec.U64(shortRoomId);
        foreach (var (key, _) in _roomMembership.ScanPrefix(prefix))
        {
            var rest = key.AsSpan(8);
            var name = KeyCodec.ReadUtf8(rest[..rest.IndexOf(KeyCodec.Separator)]);
            counts[name] = counts.GetValueOrDefault(name) + 1;
        }
        lock (_countsGate)
        {
            if (_changes[stripe] == changesBefore && _underWay[stripe] == 0)
                _counts.Set(shortRoomId, counts);
        }
        return counts.GetValueOrDefault(membership);
    }

    /// <summary>The user's rooms with <paramref name="membership"/> (every membership when null), forgotten rooms excluded.</summary>
    public IReadOnlyList<UserRoom> RoomsOf(string userId, string? membership = null)
    {
        var prefix = membership is null ? KeyCodec.Prefix(userId) : KeyCodec.Prefix(userId, membership);
        List<UserRoom> rooms = [];
        foreach (var (key, value) in _userRooms.ScanPrefix(prefix))
        {
            var parts = KeyCodec.SplitUtf8(key);
            rooms.Add(new UserRoom(parts[2], parts[1], TimelinePosition.Read(value), BinaryPrimitives.ReadUInt64BigEndian(value.AsSpan(8))));
        }
        return rooms;
    }

    /// <summary>The user's membership changes at positions after <paramref name="since"/>, oldest first.</summary>
    public IEnumerable<MembershipChange> ChangesSince(string userId, long since)
    {
        var prefix = KeyCodec.Prefix(userId);
        var from = UserChangeKey(userId, since + 1);
        foreach (var (key, value) in _userChanges.ScanRange(from, KvPrefixEnd(prefix)))
        {
            var parts = KeyCodec.SplitUtf8(value);
            yield return new MembershipChange(TimelinePosition.Read(key.AsSpan(prefix.Length)), parts[0], parts[1]);
        }
    }

    /// <summary>
    /// Completes at the first commit after this call that changes the user's membership anywhere
    /// (an invite, a join, a kick, a profile change): one-shot, with the store's register-read-await
    /// contract (<see cref="KvStore.WatchPrefix"/>).
    /// </summary>
    public Task WatchUser(string userId, CancellationToken cancellationToken) =>
        _store.WatchPrefix(_userChanges, KeyCodec.Prefix(userId), cancellationToken);

    /// <summary>
    /// Counts the user in or out of his server's joined users when his indexed membership turns to or from
    /// join. Whether he was counted comes from the room → user index rather than the caller's previous
    /// membership, so the counts follow the index exactly. Read-modify-write is safe: membership changes
    /// are written under the room's lock, held until the batch is applied, and the overlays carry the
    /// memberships and counts between changes of one batch (a join's whole state, say).
    /// </summary>
    private void CountJoined(ulong shortRoomId, string userId, bool joined, RoomWrite write)
    {
        var indexed = write.Overlay<(ulong, string), bool>(_roomUser);
        var wasJoined = indexed.TryGetValue((shortRoomId, userId), out var pendingJoin) ? pendingJoin : Get(shortRoomId, userId)?.Membership == Join;
        indexed[(shortRoomId, userId)] = joined;
        if (joined == wasJoined || !UserId.TryParse(userId, out var user))
            return;
        var server = user.Server.Value;
        var key = RoomServerKey(shortRoomId, server);
        var staged = write.Overlay<(ulong, string), long>(_roomServers);
        var count = staged.TryGetValue((shortRoomId, server), out var pending)
            ? pending
            : _roomServers.Get(key) is { } value ? (long)KeyCodec.ReadU64(value) : 0;
        count = Math.Max(0, count + (joined ? 1 : -1));
        staged[(shortRoomId, server)] = count;
        if (count == 0)
            write.Batch.Remove(_roomServers, key);
        else
            write.Batch.Put(_roomServers, key, KeyCodec.U64((ulong)count));
    }

    /// <summary>
    /// A data directory written before the per-server counts existed has joined members but no counts:
    /// they are counted once, before the first membership change can reach this instance. A store whose
    /// rooms all lost their last member is scanned again on each start, finding nothing to count.
    /// </summary>
    private void CountJoinedServersOfEarlierStore()
    {
        if (_roomServers.ScanPrefix([]).Any())
            return;
        Dictionary<(ulong Room, string Server), ulong> counts = [];
        foreach (var (key, value) in _roomUser.ScanPrefix([]))
        {
            if (DecodeRecord(value).Membership != Join || !UserId.TryParse(KeyCodec.ReadUtf8(key.AsSpan(8)), out var user))
                continue;
            var room = (KeyCodec.ReadU64(key), user.Server.Value);
            counts[room] = counts.GetValueOrDefault(room) + 1;
        }
        if (counts.Count == 0)
            return;
        using var batch = new WriteBatch();
        foreach (var ((room, server), count) in counts)
            batch.Put(_roomServers, RoomServerKey(room, server), KeyCodec.U64(count));
        _store.Commit(batch);
    }

    private static byte[] RoomServerKey(ulong shortRoomId, string server) => [.. KeyCodec.U64(shortRoomId), .. KeyCodec.Utf8(server)];

    private static byte[]? KvPrefixEnd(byte[] prefix)
    {
        var end = (byte[])prefix.Clone();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] != 0xFF)
            {
                end[i]++;
                return end[..(i + 1)];
            }
        }
        return null;
    }

    private static byte[] RoomUserKey(ulong shortRoomId, string userId) => [.. KeyCodec.U64(shortRoomId), .. KeyCodec.Utf8(userId)];

    private static byte[] RoomMembershipKey(ulong shortRoomId, string membership, string userId) =>
        [.. KeyCodec.U64(shortRoomId), .. KeyCodec.Join(membership, userId)];

    private static byte[] UserChangeKey(string userId, long position)
    {
        var prefix = KeyCodec.Prefix(userId);
        var key = new byte[prefix.Length + TimelinePosition.Size];
        prefix.CopyTo(key, 0);
        TimelinePosition.Write(key.AsSpan(prefix.Length), position);
        return key;
    }

    /// <summary>Value of <c>roomuser_membership</c>: position (8), short event id (8), forgotten (1), UTF-8 membership.</summary>
    private static byte[] EncodeRecord(MembershipRecord record)
    {
        var membership = KeyCodec.Utf8(record.Membership);
        var bytes = new byte[17 + membership.Length];
        TimelinePosition.Write(bytes, record.Position);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(8), record.ShortEventId);
        bytes[16] = record.Forgotten ? (byte)1 : (byte)0;
        membership.CopyTo(bytes, 17);
        return bytes;
    }

    private static MembershipRecord DecodeRecord(byte[] value) =>
        new(KeyCodec.ReadUtf8(value.AsSpan(17)), TimelinePosition.Read(value), BinaryPrimitives.ReadUInt64BigEndian(value.AsSpan(8)), value[16] == 1);
}
