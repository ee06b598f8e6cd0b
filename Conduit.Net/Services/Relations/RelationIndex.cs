using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Relations;

/// <summary>One child event in the relations index.</summary>
public readonly record struct RelationEntry(long Position, ulong ShortEventId, string RelType, string EventType);

/// <summary>
/// What a parent's children add up to, for the relation types the server bundles: the number of
/// thread replies and the position of the newest one, edits, and references.
/// </summary>
public readonly record struct RelationAggregate(long ThreadCount, long ThreadLatest, long ReplaceCount, long ReferenceCount)
{
    public bool IsEmpty => ThreadCount == 0 && ReplaceCount == 0 && ReferenceCount == 0;
}

/// <summary>
/// The relations between a room's events, written with each event in the append path's batch:
/// children by parent in timeline order (all of them, and per <c>rel_type</c>), per-parent
/// aggregates for bundling, thread participants, threads by latest activity, and annotation keys
/// per sender for de-duplication. A redacted child loses its relation (the redaction strips its
/// <c>m.relates_to</c>), so redacting one takes it out of everything here.
/// </summary>
/// <remarks>
/// Parents are named by event id, not short id: a child may arrive before its parent (federation),
/// and a relation to an event that does not exist must not intern its id. Every key starts with the
/// child's short room id, so a relation never reaches across rooms.
/// </remarks>
public sealed class RelationIndex : IRoomEventIndex
{
    private const int AggregateSize = 32;

    private readonly KvTree _byParent;
    private readonly KvTree _byType;
    private readonly KvTree _aggregates;
    private readonly KvTree _participants;
    private readonly KvTree _threads;
    private readonly KvTree _annotations;

    /// <summary>
    /// Hashes of the parents that may have an aggregate, so that the many events without one are
    /// bundled without a read. Loaded from the tree on first use; a write adds its parent before it
    /// commits, and nothing is ever taken out (a false "maybe" costs one read, a false "no" would
    /// lose a bundle).
    /// </summary>
    private readonly Lazy<ConcurrentDictionary<int, byte>> _aggregated;

    public RelationIndex(KvStore store)
    {
        _aggregated = new(LoadAggregated);
        _byParent = store.Tree(Trees.RelationsByParent);
        _byType = store.Tree(Trees.RelationsByType);
        _aggregates = store.Tree(Trees.RelationAggregates);
        _participants = store.Tree(Trees.ThreadParticipants);
        _threads = store.Tree(Trees.ThreadsByActivity);
        _annotations = store.Tree(Trees.AnnotationKeys);
    }

    /// <summary>
    /// The client rules of relations: no thread off an event that is itself a relation's child
    /// (400 <c>M_UNKNOWN</c>, as the spec says for lack of a better code), and no second annotation
    /// with the same type and key on the same event from the same sender (400 <c>M_DUPLICATE_ANNOTATION</c>).
    /// </summary>
    public void CheckLocal(EventDraft draft, RoomAppend append)
    {
        if (append.Room is not { } room || Relation.Read(draft.Content) is not { } relation)
            return;
        if (relation.RelType == Relation.Thread && append.FindEvent(relation.ParentId) is { } root && Relation.Read(root.Content) is not null)
            throw new MatrixException(ErrorCode.BadRequest, "Cannot start a thread from an event that itself relates to another event.");
        if (relation is { RelType: Relation.Annotation, Key: { } key } && AnnotationOf(room.ShortRoomId, relation.ParentId, draft.Sender, draft.Type, key, append.Write) != 0)
            throw new MatrixException(ErrorCode.DuplicateAnnotation, $"You already annotated {relation.ParentId} with this key.");
    }

    public void Appended(StoredEvent stored, RoomAppend append)
    {
        if (stored.IsRedacted || Relation.Read(stored.Content) is not { } relation)
            return;
        var write = append.Write;
        var room = stored.ShortRoomId;
        var parent = relation.ParentId;
        write.Batch.Put(_byParent, Position(ParentPrefix(room, parent), stored.Position), Concat(KeyCodec.U64(stored.ShortEventId), KeyCodec.Join(relation.RelType, stored.Type)));
        write.Batch.Put(_byType, Position(TypePrefix(room, parent, relation.RelType), stored.Position), Concat(KeyCodec.U64(stored.ShortEventId), KeyCodec.Utf8(stored.Type)));

        var aggregate = AggregateOf(room, parent, write);
        switch (relation.RelType)
        {
            case Relation.Thread:
                var latest = aggregate.ThreadCount == 0 ? stored.Position : Math.Max(aggregate.ThreadLatest, stored.Position);
                MoveThread(room, parent, aggregate.ThreadCount == 0 ? null : aggregate.ThreadLatest, latest, write);
                AddParticipant(room, parent, stored.Sender, +1, write);
                SaveAggregate(room, parent, aggregate with { ThreadCount = aggregate.ThreadCount + 1, ThreadLatest = latest }, write);
                break;
            case Relation.Replace:
                SaveAggregate(room, parent, aggregate with { ReplaceCount = aggregate.ReplaceCount + 1 }, write);
                break;
            case Relation.Reference:
                SaveAggregate(room, parent, aggregate with { ReferenceCount = aggregate.ReferenceCount + 1 }, write);
                break;
            case Relation.Annotation when relation.Key is { } key && AnnotationOf(room, parent, stored.Sender, stored.Type, key, write) == 0:
                SetAnnotation(room, parent, stored.Sender, stored.Type, key, stored.ShortEventId, write);
                break;
        }
    }

    public void Redacted(StoredEvent original, RoomAppend append)
    {
        if (Relation.Read(original.Content) is not { } relation)
            return;
        var write = append.Write;
        var room = original.ShortRoomId;
        var parent = relation.ParentId;
        var parentKey = Position(ParentPrefix(room, parent), original.Position);
        var removed = write.Overlay<ulong, bool>(_byParent);
        if (removed.ContainsKey(original.ShortEventId) || _byParent.Get(parentKey) is null)
            return;
        removed[original.ShortEventId] = true;
        write.Batch.Remove(_byParent, parentKey);
        write.Batch.Remove(_byType, Position(TypePrefix(room, parent, relation.RelType), original.Position));

        var aggregate = AggregateOf(room, parent, write);
        switch (relation.RelType)
        {
            case Relation.Thread when aggregate.ThreadCount > 0:
                AddParticipant(room, parent, original.Sender, -1, write);
                long? latest = aggregate.ThreadCount == 1 ? null
                    : aggregate.ThreadLatest == original.Position ? NewestThreadReply(room, parent, removed)
                    : aggregate.ThreadLatest;
                MoveThread(room, parent, aggregate.ThreadLatest, latest, write);
                SaveAggregate(room, parent, aggregate with { ThreadCount = aggregate.ThreadCount - 1, ThreadLatest = latest ?? 0 }, write);
                break;
            case Relation.Replace when aggregate.ReplaceCount > 0:
                SaveAggregate(room, parent, aggregate with { ReplaceCount = aggregate.ReplaceCount - 1 }, write);
                break;
            case Relation.Reference when aggregate.ReferenceCount > 0:
                SaveAggregate(room, parent, aggregate with { ReferenceCount = aggregate.ReferenceCount - 1 }, write);
                break;
            case Relation.Annotation when relation.Key is { } key && AnnotationOf(room, parent, original.Sender, original.Type, key, write) == original.ShortEventId:
                SetAnnotation(room, parent, original.Sender, original.Type, key, 0, write);
                break;
        }
    }

    /// <summary>The committed aggregate of a parent's children (all zero when it has none).</summary>
    public RelationAggregate Aggregate(ulong shortRoomId, string parentId) =>
        _aggregated.Value.ContainsKey(HashCode.Combine(shortRoomId, parentId)) ? AggregateOf(shortRoomId, parentId, null) : default;

    /// <summary>
    /// A parent's children with <paramref name="after"/> &lt; position &lt;= <paramref name="upTo"/>
    /// (null: unbounded), of one <c>rel_type</c> or of any, oldest first or newest first. Lazy.
    /// </summary>
    public IEnumerable<RelationEntry> Children(ulong shortRoomId, string parentId, string? relType, long? after, long? upTo, bool newestFirst)
    {
        var prefix = relType is null ? ParentPrefix(shortRoomId, parentId) : TypePrefix(shortRoomId, parentId, relType);
        var (from, to) = PositionRange(prefix, after, upTo);
        foreach (var (key, value) in (relType is null ? _byParent : _byType).ScanRange(from, to, newestFirst))
        {
            var position = TimelinePosition.Read(key.AsSpan(prefix.Length));
            var shortEventId = KeyCodec.ReadU64(value);
            if (relType is not null)
            {
                yield return new RelationEntry(position, shortEventId, relType, KeyCodec.ReadUtf8(value.AsSpan(8)));
                continue;
            }
            var parts = KeyCodec.SplitUtf8(value.AsSpan(8));
            yield return new RelationEntry(position, shortEventId, parts[0], parts[1]);
        }
    }

    /// <summary>Whether <paramref name="userId"/> sent a thread reply to <paramref name="rootId"/> that still counts.</summary>
    public bool RepliedInThread(ulong shortRoomId, string rootId, string userId) =>
        _participants.Get(ParticipantKey(shortRoomId, rootId, userId)) is { } count && KeyCodec.ReadU64(count) > 0;

    /// <summary>The room's thread roots by the position of their newest reply, newest first, from <paramref name="upTo"/> down.</summary>
    public IEnumerable<(long Activity, string RootId)> ThreadsByActivity(ulong shortRoomId, long? upTo)
    {
        var (from, to) = PositionRange(KeyCodec.U64(shortRoomId), null, upTo);
        foreach (var (key, value) in _threads.ScanRange(from, to, reverse: true))
            yield return (TimelinePosition.Read(key.AsSpan(8)), KeyCodec.ReadUtf8(value));
    }

    private RelationAggregate AggregateOf(ulong room, string parent, RoomWrite? write)
    {
        var overlayKey = OverlayKey(room, parent);
        if (write is not null && write.Overlay<string, RelationAggregate>(_aggregates).TryGetValue(overlayKey, out var pending))
            return pending;
        if (_aggregates.Get(AggregateKey(room, parent)) is not { Length: AggregateSize } bytes)
            return default;
        return new RelationAggregate(
            BinaryPrimitives.ReadInt64BigEndian(bytes),
            BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(8)),
            BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(16)),
            BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(24)));
    }

    private void SaveAggregate(ulong room, string parent, RelationAggregate aggregate, RoomWrite write)
    {
        write.Overlay<string, RelationAggregate>(_aggregates)[OverlayKey(room, parent)] = aggregate;
        var key = AggregateKey(room, parent);
        if (aggregate.IsEmpty)
        {
            write.Batch.Remove(_aggregates, key);
            return;
        }
        _aggregated.Value.TryAdd(HashCode.Combine(room, parent), 0);
        var bytes = new byte[AggregateSize];
        BinaryPrimitives.WriteInt64BigEndian(bytes, aggregate.ThreadCount);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(8), aggregate.ThreadLatest);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(16), aggregate.ReplaceCount);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(24), aggregate.ReferenceCount);
        write.Batch.Put(_aggregates, key, bytes);
    }

    private ConcurrentDictionary<int, byte> LoadAggregated()
    {
        var hashes = new ConcurrentDictionary<int, byte>();
        foreach (var (key, _) in _aggregates.ScanRange(null, null))
            hashes.TryAdd(HashCode.Combine(KeyCodec.ReadU64(key), KeyCodec.ReadUtf8(key.AsSpan(8))), 0);
        return hashes;
    }

    /// <summary>Moves a thread's entry in the activity order from one position to another (null: absent).</summary>
    private void MoveThread(ulong room, string root, long? from, long? to, RoomWrite write)
    {
        if (from == to)
            return;
        if (from is { } old)
            write.Batch.Remove(_threads, Position(KeyCodec.U64(room), old));
        if (to is { } position)
            write.Batch.Put(_threads, Position(KeyCodec.U64(room), position), KeyCodec.Utf8(root));
    }

    /// <summary>The newest thread reply still in the index once the replies redacted in this batch are gone.</summary>
    private long NewestThreadReply(ulong room, string root, Dictionary<ulong, bool> removed)
    {
        foreach (var entry in Children(room, root, Relation.Thread, null, null, newestFirst: true))
        {
            if (!removed.ContainsKey(entry.ShortEventId))
                return entry.Position;
        }
        return 0;
    }

    private void AddParticipant(ulong room, string root, string userId, int delta, RoomWrite write)
    {
        var overlay = write.Overlay<string, ulong>(_participants);
        var overlayKey = string.Join('\uFFFF', room.ToString(System.Globalization.CultureInfo.InvariantCulture), root, userId);
        var key = ParticipantKey(room, root, userId);
        if (!overlay.TryGetValue(overlayKey, out var count))
            count = _participants.Get(key) is { } stored ? KeyCodec.ReadU64(stored) : 0;
        count = delta > 0 ? count + 1 : count > 0 ? count - 1 : 0;
        overlay[overlayKey] = count;
        if (count == 0)
            write.Batch.Remove(_participants, key);
        else
            write.Batch.Put(_participants, key, KeyCodec.U64(count));
    }

    /// <summary>The short id of the sender's live annotation with this type and key, or 0.</summary>
    private ulong AnnotationOf(ulong room, string parent, string sender, string type, string annotationKey, RoomWrite write)
    {
        var key = AnnotationKey(room, parent, sender, type, annotationKey);
        if (write.Overlay<string, ulong>(_annotations).TryGetValue(Convert.ToHexString(key), out var pending))
            return pending;
        return _annotations.Get(key) is { } stored ? KeyCodec.ReadU64(stored) : 0;
    }

    private void SetAnnotation(ulong room, string parent, string sender, string type, string annotationKey, ulong shortEventId, RoomWrite write)
    {
        var key = AnnotationKey(room, parent, sender, type, annotationKey);
        write.Overlay<string, ulong>(_annotations)[Convert.ToHexString(key)] = shortEventId;
        if (shortEventId == 0)
            write.Batch.Remove(_annotations, key);
        else
            write.Batch.Put(_annotations, key, KeyCodec.U64(shortEventId));
    }

    private static string OverlayKey(ulong room, string parent) =>
        string.Concat(room.ToString(System.Globalization.CultureInfo.InvariantCulture), "\uFFFF", parent);

    private static byte[] AggregateKey(ulong room, string parent) => Concat(KeyCodec.U64(room), KeyCodec.Utf8(parent));

    private static byte[] ParentPrefix(ulong room, string parent) => Concat(KeyCodec.U64(room), KeyCodec.Prefix(parent));

    private static byte[] TypePrefix(ulong room, string parent, string relType) => Concat(KeyCodec.U64(room), KeyCodec.Prefix(parent, relType));

    private static byte[] ParticipantKey(ulong room, string root, string userId) => Concat(KeyCodec.U64(room), KeyCodec.Join(root, userId));

    /// <summary>Annotation keys are any length: sender, type and key are hashed so that the tree key stays bounded.</summary>
    private static byte[] AnnotationKey(ulong room, string parent, string sender, string type, string annotationKey) =>
        Concat(KeyCodec.U64(room), KeyCodec.Prefix(parent), SHA256.HashData(KeyCodec.Join(sender, type, annotationKey)));

    private static byte[] Position(byte[] prefix, long position)
    {
        var key = new byte[prefix.Length + TimelinePosition.Size];
        prefix.CopyTo(key, 0);
        TimelinePosition.Write(key.AsSpan(prefix.Length), position);
        return key;
    }

    /// <summary>
    /// The key range of <c>prefix ++ position</c> keys with <paramref name="after"/> &lt; position &lt;= <paramref name="upTo"/>.
    /// Unbounded above, it ends just past the largest 8-byte position (a 9-byte suffix sorts after every 8-byte one).
    /// </summary>
    private static (byte[] From, byte[] To) PositionRange(byte[] prefix, long? after, long? upTo)
    {
        var end = new byte[prefix.Length + TimelinePosition.Size + 1];
        prefix.CopyTo(end, 0);
        end.AsSpan(prefix.Length, TimelinePosition.Size).Fill(0xFF);
        if (after == long.MaxValue)
            return (end, end);
        var from = Position(prefix, after is { } a ? a + 1 : long.MinValue);
        return (from, upTo is { } u && u < long.MaxValue ? Position(prefix, u + 1) : end);
    }

    private static byte[] Concat(params ReadOnlySpan<byte[]> parts)
    {
        var length = 0;
        foreach (var part in parts)
            length += part.Length;
        var bytes = new byte[length];
        var offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(bytes, offset);
            offset += part.Length;
        }
        return bytes;
    }
}
