using System.Buffers.Binary;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// Room state snapshots stored as layered diffs (DESIGN.md "Storage model"). A snapshot is a full
/// <see cref="StateSet"/> named by a short state hash; on disk it is a diff (added and removed
/// entries) against a parent snapshot, or the whole set when it is a root. Equal sets share one
/// snapshot, found by the SHA-256 of the full set.
/// </summary>
/// <remarks>
/// <para>
/// Layering keeps both the bytes written per state change and the depth of a chain small: a new
/// diff hangs below its base only while it is at most half the size of the base's own diff (and the
/// chain stays under <see cref="MaxDepth"/>); otherwise it is folded into the base's parent, and so
/// on up to a new root. Layer sizes therefore grow geometrically towards the root, like the digits
/// of a binary counter: a state change writes O(log n) entries on average, and a room with 10,000
/// members rewrites its full state only once its diffs add up to half of it.
/// </para>
/// <para>
/// A message event writes no snapshot at all: it points at the snapshot its room already had.
/// </para>
/// </remarks>
public sealed class StateSnapshots
{
    /// <summary>Longest chain from a snapshot to its root; point look-ups walk at most this many layers.</summary>
    public const int MaxDepth = 12;

    private readonly KvStore _store;
    private readonly KvTree _hashes;
    private readonly KvTree _diffs;
    private readonly LruCache<ulong, StateSet> _full;
    private readonly LruCache<ulong, Layer> _layers;

    public StateSnapshots(KvStore store, long cachedEntries = 500_000)
    {
        _store = store;
        _hashes = store.Tree(Trees.StateHashToShort);
        _diffs = store.Tree(Trees.StateDiffs);
        _full = new LruCache<ulong, StateSet>(cachedEntries, s => s.Count);
        _layers = new LruCache<ulong, Layer>(cachedEntries / 2, l => l.Added.Length + l.Removed.Length);
    }

    /// <summary>The full state of snapshot <paramref name="hash"/> (0 is the empty state).</summary>
    public StateSet Load(ulong hash, RoomWrite? write = null)
    {
        if (hash == 0)
            return StateSet.Empty;
        if (write is not null && Pending(write).TryGetValue(hash, out var pending))
            return pending.Full;
        if (_full.TryGet(hash, out var cached))
            return cached;
        var layer = ReadLayer(hash, write);
        var full = layer.Parent == 0
            ? StateSet.FromUnsorted(layer.Added)
            : Load(layer.Parent, write).Apply(layer.Added, layer.Removed);
        _full.Set(hash, full);
        return full;
    }

    /// <summary>
    /// The short event id at <paramref name="key"/> in snapshot <paramref name="hash"/>, walking the
    /// layers instead of building the full set: what history visibility asks of many old snapshots.
    /// </summary>
    public ulong? Lookup(ulong hash, ulong key, RoomWrite? write = null)
    {
        while (hash != 0)
        {
            if (write is not null && Pending(write).TryGetValue(hash, out var pending))
                return pending.Full.Get(key);
            if (_full.TryGet(hash, out var cached))
                return cached.Get(key);
            var layer = ReadLayer(hash, write);
            if (Find(layer.Added, key) is { } added)
                return added.Event;
            if (Find(layer.Removed, key) is not null)
                return null;
            hash = layer.Parent;
        }
        return null;
    }

    /// <summary>
    /// The snapshot for <paramref name="full"/>, created (as a diff against <paramref name="baseHash"/>,
    /// whose full set is <paramref name="baseFull"/>, or one of its ancestors) unless an equal set is stored.
    /// </summary>
    public ulong Save(StateSet full, ulong baseHash, StateSet baseFull, RoomWrite write)
    {
        var digest = full.Hash();
        var pendingDigests = write.Overlay<string, ulong>(_hashes);
        var digestText = Convert.ToHexString(digest);
        if (pendingDigests.TryGetValue(digestText, out var pendingHash))
            return pendingHash;
        if (_hashes.Get(digest) is { } existing)
            return KeyCodec.ReadU64(existing);

        var parent = baseHash;
        var (added, removed) = StateSet.Diff(baseFull, full);
        while (parent != 0)
        {
            var layer = ReadLayer(parent, write);
            if (layer.Depth + 1 < MaxDepth && (added.Length + removed.Length) * 2 <= layer.Added.Length + layer.Removed.Length)
                break;
            parent = layer.Parent;
            (added, removed) = StateSet.Diff(Load(parent, write), full);
        }

        var depth = parent == 0 ? 0 : ReadLayer(parent, write).Depth + 1;
        var created = new Layer(parent, depth, added, removed);
        var hash = _store.NextCount(write.Batch);
        write.Batch.Put(_hashes, digest, KeyCodec.U64(hash));
        write.Batch.Put(_diffs, KeyCodec.U64(hash), created.Encode());
        Pending(write)[hash] = new PendingSnapshot(created, full);
        pendingDigests[digestText] = hash;
        write.AfterCommit(() =>
        {
            _layers.Set(hash, created);
            _full.Set(hash, full);
        });
        return hash;
    }

    private Dictionary<ulong, PendingSnapshot> Pending(RoomWrite write) => write.Overlay<ulong, PendingSnapshot>(this);

    private Layer ReadLayer(ulong hash, RoomWrite? write)
    {
        if (write is not null && Pending(write).TryGetValue(hash, out var pending))
            return pending.Layer;
        if (_layers.TryGet(hash, out var cached))
            return cached;
        var stored = _diffs.Get(KeyCodec.U64(hash))
            ?? throw new InvalidDataException($"State snapshot {hash} has no entry in {Trees.StateDiffs}.");
        var layer = Layer.Decode(stored);
        _layers.Set(hash, layer);
        return layer;
    }

    private static StateEntry? Find(StateEntry[] sorted, ulong key)
    {
        int low = 0, high = sorted.Length - 1;
        while (low <= high)
        {
            var mid = low + ((high - low) >> 1);
            if (sorted[mid].Key == key)
                return sorted[mid];
            if (sorted[mid].Key < key)
                low = mid + 1;
            else
                high = mid - 1;
        }
        return null;
    }

    private sealed record PendingSnapshot(Layer Layer, StateSet Full);

    /// <summary>
    /// One stored diff. Value layout: parent u64 (0: this is a root and <c>Added</c> is the full set),
    /// depth u32, added count u32, the added entries, then the removed entries; 16 bytes each, sorted.
    /// </summary>
    private sealed record Layer(ulong Parent, int Depth, StateEntry[] Added, StateEntry[] Removed)
    {
        private const int HeaderSize = 16;

        public byte[] Encode()
        {
            var bytes = new byte[HeaderSize + ((Added.Length + Removed.Length) * StateEntry.Size)];
            BinaryPrimitives.WriteUInt64BigEndian(bytes, Parent);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), Depth);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), Added.Length);
            var offset = HeaderSize;
            foreach (var entry in Added.Concat(Removed))
            {
                entry.Write(bytes.AsSpan(offset));
                offset += StateEntry.Size;
            }
            return bytes;
        }

        public static Layer Decode(ReadOnlySpan<byte> bytes)
        {
            var parent = BinaryPrimitives.ReadUInt64BigEndian(bytes);
            var depth = BinaryPrimitives.ReadInt32BigEndian(bytes[8..]);
            var addedCount = BinaryPrimitives.ReadInt32BigEndian(bytes[12..]);
            var total = (bytes.Length - HeaderSize) / StateEntry.Size;
            var added = new StateEntry[addedCount];
            var removed = new StateEntry[total - addedCount];
            for (var i = 0; i < total; i++)
            {
                var entry = StateEntry.Read(bytes[(HeaderSize + (i * StateEntry.Size))..]);
                if (i < addedCount)
                    added[i] = entry;
                else
                    removed[i - addedCount] = entry;
            }
            return new Layer(parent, depth, added, removed);
        }
    }
}
