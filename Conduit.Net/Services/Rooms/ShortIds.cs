using Conduit.Net.Storage;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// Short ids (DESIGN.md "Storage model"): room ids, event ids and (type, state_key) pairs interned to
/// u64 values taken from the global counter in the batch that first uses them, so that keys and
/// state entries hold 8 bytes instead of the strings.
/// </summary>
public sealed class ShortIds
{
    private readonly Interner _rooms;
    private readonly Interner _events;
    private readonly Interner _stateKeys;

    public ShortIds(KvStore store)
    {
        _rooms = new Interner(store, store.Tree(Trees.RoomIdToShort), null, 10_000);
        _events = new Interner(store, store.Tree(Trees.EventIdToShort), null, 20_000);
        _stateKeys = new Interner(store, store.Tree(Trees.StateKeyToShort), store.Tree(Trees.ShortToStateKey), 50_000);
    }

    public ulong? FindRoom(string roomId, RoomWrite? write = null) => _rooms.Find(roomId, write);

    public ulong GetOrCreateRoom(string roomId, RoomWrite write) => _rooms.GetOrCreate(roomId, write);

    public ulong? FindEvent(string eventId, RoomWrite? write = null) => _events.Find(eventId, write);

    /// <summary>
    /// The short id of an event this server just built: its id covers its content, prev_events and
    /// timestamp, so no other event has it and the look-ups of an intern are skipped.
    /// </summary>
    public ulong CreateLocalEvent(string eventId, RoomWrite write) => _events.Create(eventId, write);

    /// <summary>The short id of an event received from another server, which may be known here already.</summary>
    public ulong GetOrCreateEvent(string eventId, RoomWrite write) => _events.GetOrCreate(eventId, write);

    public ulong? FindStateKey(string type, string stateKey, RoomWrite? write = null) =>
        _stateKeys.Find(StateKeyName(type, stateKey), write);

    public ulong GetOrCreateStateKey(string type, string stateKey, RoomWrite write) =>
        _stateKeys.GetOrCreate(StateKeyName(type, stateKey), write);

    /// <summary>The (type, state_key) pair of a short state key; throws when the store does not know it.</summary>
    public (string Type, string StateKey) StateKeyOf(ulong shortStateKey)
    {
        var name = _stateKeys.NameOf(shortStateKey)
            ?? throw new InvalidDataException($"Short state key {shortStateKey} has no entry in {Trees.ShortToStateKey}.");
        var separator = name.IndexOf('\uFFFF', StringComparison.Ordinal);
        return (name[..separator], name[(separator + 1)..]);
    }

    /// <summary>
    /// Type and state key in one string around U+FFFF, a noncharacter that no event type contains; its
    /// UTF-8 form never holds a 0xFF byte, so the stored key is plain UTF-8 too.
    /// </summary>
    private static string StateKeyName(string type, string stateKey) => string.Concat(type, "\uFFFF", stateKey);

    /// <summary>
    /// One interned namespace. An id handed out by a batch that has not committed yet is "pending":
    /// another batch that needs the same name gets the same id and writes the (identical) mapping
    /// too, so whichever commits first makes it durable and none can commit a reference to an id
    /// whose mapping is lost. Only committed mappings enter the cache.
    /// </summary>
    private sealed class Interner
    {
        private readonly KvStore _store;
        private readonly KvTree _forward;
        private readonly KvTree? _backward;
        private readonly LruCache<string, ulong> _ids;
        private readonly LruCache<ulong, string> _names;
        private readonly Dictionary<string, ulong> _pending = [];
        private readonly Lock _gate = new();

        public Interner(KvStore store, KvTree forward, KvTree? backward, int cacheEntries)
        {
            _store = store;
            _forward = forward;
            _backward = backward;
            _ids = new LruCache<string, ulong>(cacheEntries);
            _names = new LruCache<ulong, string>(cacheEntries);
        }

        public ulong? Find(string name, RoomWrite? write)
        {
            if (write is not null && write.Overlay<string, ulong>(this).TryGetValue(name, out var written))
                return written;
            if (_ids.TryGet(name, out var cached))
                return cached;

            // Names come from requests too; one longer than any key can never have been interned.
            var key = KeyCodec.Utf8(name);
            if (key.Length > KvTree.MaxKeyLength || _forward.Get(key) is not { } stored)
                return null;
            var id = KeyCodec.ReadU64(stored);
            _ids.Set(name, id);
            return id;
        }

        public ulong GetOrCreate(string name, RoomWrite write)
        {
            if (write.Overlay<string, ulong>(this).TryGetValue(name, out var written))
                return written;
            if (_ids.TryGet(name, out var cached))
                return cached;
            ulong id;
            lock (_gate)
            {
                // The store is read once, here under the gate, where no other batch can allocate or commit the
                // name meanwhile: a room join interns thousands of new names, each a read that finds nothing.
                if (!_pending.TryGetValue(name, out id))
                {
                    if (_ids.TryGet(name, out cached))
                        return cached;
                    if (_forward.Get(KeyCodec.Utf8(name)) is { } stored)
                    {
                        id = KeyCodec.ReadU64(stored);
                        _ids.Set(name, id);
                        return id;
                    }
                    id = _store.NextCount(write.Batch);
                    _pending[name] = id;
                }
            }
            Record(name, id, write);
            return id;
        }

        public ulong Create(string name, RoomWrite write)
        {
            ulong id;
            lock (_gate)
            {
                id = _store.NextCount(write.Batch);
                _pending[name] = id;
            }
            Record(name, id, write);
            return id;
        }

        private void Record(string name, ulong id, RoomWrite write)
        {
            var idBytes = KeyCodec.U64(id);
            write.Batch.Put(_forward, KeyCodec.Utf8(name), idBytes);
            if (_backward is not null)
                write.Batch.Put(_backward, idBytes, KeyCodec.Utf8(name));
            write.Overlay<string, ulong>(this)[name] = id;
            write.AfterCommit(() =>
            {
                // Cached before it leaves the pending set, so that a concurrent allocation finds it in one or the other.
                lock (_gate)
                {
                    _ids.Set(name, id);
                    _pending.Remove(name);
                }
            });
        }

        public string? NameOf(ulong id)
        {
            if (_backward is null)
                throw new InvalidOperationException("This namespace keeps no reverse mapping.");
            if (_names.TryGet(id, out var cached))
                return cached;
            if (_backward.Get(KeyCodec.U64(id)) is not { } stored)
                return null;
            var name = KeyCodec.ReadUtf8(stored);
            _names.Set(id, name);
            return name;
        }
    }
}
