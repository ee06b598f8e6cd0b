using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Services.ServerKeys;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// The rooms' storage and their ordered append path: short ids, the timeline, state snapshots and
/// membership indexes, the hot per-room data, and the per-room lock under which local events are
/// built, signed, authorized and written (<see cref="LockAsync"/>, <see cref="RoomAppend"/>).
/// </summary>
/// <remarks>
/// Everything read here is committed data or the caller's own <see cref="RoomWrite"/>: caches are
/// filled after a commit (by the writer) or from the store (under the room lock, so that a load
/// cannot publish a snapshot older than one an append just published).
/// </remarks>
public sealed class RoomEvents
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly KvStore _store;
    private readonly KvTree _versions;
    private readonly KvTree _heads;
    private readonly KvTree _stateAtEvent;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    private readonly LruCache<string, RoomSnapshot> _rooms = new(200_000, r => r.State.Count + 1);
    private readonly LruCache<ulong, Pdu> _pdus = new(20_000);

    /// <summary>
    /// Snapshots of rooms whose latest batch is applied but not yet durable (its commit actions, which
    /// publish to <see cref="_rooms"/>, run only then). The next holder of the room's lock builds on
    /// these, so that it need not wait for the disk; every other reader keeps the published ones.
    /// </summary>
    private readonly ConcurrentDictionary<string, RoomSnapshot> _applied = new(StringComparer.Ordinal);

    /// <summary>Ids of rooms being created, from their create event until the batch commits or is abandoned.</summary>
    private readonly ConcurrentDictionary<string, byte> _creating = new(StringComparer.Ordinal);

    /// <summary>Orders publications to <see cref="_rooms"/>, so that an older snapshot never replaces a newer one.</summary>
    private readonly Lock _publishGate = new();

    public RoomEvents(KvStore store, ServerConfig config, ServerKeyService keys, TimeProvider time, IEnumerable<IRoomEventIndex> indexes, IEnumerable<ILocalEventOutbox> outboxes)
    {
        Indexes = [.. indexes];
        Outboxes = [.. outboxes];
        _store = store;
        _versions = store.Tree(Trees.RoomVersions);
        _heads = store.Tree(Trees.RoomHeads);
        _stateAtEvent = store.Tree(Trees.RoomStateAtEvent);
        Origin = ServerName.Parse(config.ServerName);
        Keys = keys;
        Time = time;
        Ids = new ShortIds(store);
        Snapshots = new StateSnapshots(store);
        Index = new EventIndex(store);
        Timeline = new Timeline(store, Index);
        Members = new Memberships(store);
        Transactions = new Transactions(store);
        Dag = new RoomDag(this);
    }

    public ServerName Origin { get; }

    public ShortIds Ids { get; }

    public StateSnapshots Snapshots { get; }

    public EventIndex Index { get; }

    public Timeline Timeline { get; }

    public Memberships Members { get; }

    public Transactions Transactions { get; }

    public RoomDag Dag { get; }

    public KvStore Store => _store;

    /// <summary>The other services' indexes that the append path writes with every event.</summary>
    public IReadOnlyList<IRoomEventIndex> Indexes { get; }

    /// <summary>Where local events are queued for the other servers of their room, in the events' own batch.</summary>
    public IReadOnlyList<ILocalEventOutbox> Outboxes { get; }

    internal ServerKeyService Keys { get; }

    internal TimeProvider Time { get; }

    /// <summary>The room as of its latest committed event, or null when this server does not know it.</summary>
    public RoomSnapshot? Find(string roomId)
    {
        if (_rooms.TryGet(roomId, out var cached))
            return cached;
        if (Ids.FindRoom(roomId) is null)
            return null;
        var gate = LockOf(roomId);
        gate.Wait();
        try
        {
            return LoadUnderLock(roomId);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Waits for the room's lock and returns an append session holding it, or null (lock released)
    /// when the room is unknown. Dispose the session to release the lock.
    /// </summary>
    public async Task<RoomAppend?> LockAsync(string roomId, CancellationToken cancellationToken)
    {
        if (Ids.FindRoom(roomId) is null)
            return null;
        var gate = LockOf(roomId);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var room = LoadUnderLock(roomId);
            if (room is not null)
                return new RoomAppend(this, room, gate);
        }
        catch
        {
            gate.Release();
            throw;
        }
        gate.Release();
        return null;
    }

    /// <summary>
    /// An append session for a room that does not exist yet; its first event must be the
    /// <c>m.room.create</c>. No lock: nobody can address the room before the session commits.
    /// </summary>
    public RoomAppend NewRoom(RoomVersion version, RoomId? roomId) => new(this, version, roomId);

    /// <summary>The event holding <c>(type, state_key)</c> in the room's current state.</summary>
    public StoredEvent? StateEvent(RoomSnapshot room, string type, string stateKey, RoomWrite? write = null) =>
        Ids.FindStateKey(type, stateKey, write) is { } key && room.State.Get(key) is { } shortEventId
            ? Timeline.GetAny(shortEventId, write)
            : null;

    /// <summary>The event holding <c>(type, state_key)</c> in snapshot <paramref name="stateHash"/>, walking its layers.</summary>
    public StoredEvent? StateEventAt(ulong stateHash, string type, string stateKey) =>
        Ids.FindStateKey(type, stateKey) is { } key && Snapshots.Lookup(stateHash, key) is { } shortEventId
            ? Timeline.GetAny(shortEventId)
            : null;

    /// <summary>
    /// The room's current state just after its last event at or before timeline position
    /// <paramref name="position"/> (empty before its first event): what a sync or pagination token at
    /// that position saw. That is the state after the event itself, unless its arrival merged branches.
    /// </summary>
    public StateSet StateAtPosition(RoomSnapshot room, long position)
    {
        if (position >= room.LastPosition)
            return room.State;
        var last = Timeline.Range(room.ShortRoomId, null, position, newestFirst: true).FirstOrDefault();
        if (last is null)
            return StateSet.Empty;
        return _stateAtEvent.Get(TimelinePosition.PduKey(last.ShortRoomId, last.Position)) is { } merged
            ? Snapshots.Load(KeyCodec.ReadU64(merged))
            : StateAfter(last);
    }

    /// <summary>The full state just after an event: the state before it, plus the event itself if it is a state event.</summary>
    public StateSet StateAfter(StoredEvent stored)
    {
        var before = Snapshots.Load(StateBefore(stored.ShortEventId) ?? 0);
        if (stored.StateKey is not { } stateKey || Ids.FindStateKey(stored.Type, stateKey) is not { } key)
            return before;
        return before.With(new StateEntry(key, stored.ShortEventId), out _);
    }

    /// <summary>The snapshot of the state before an event (what it was authorized against), or null for an event not stored here.</summary>
    public ulong? StateBefore(ulong shortEventId) => Index.Get(shortEventId)?.StateBefore;

    /// <summary>The events of a full state, in short state key order.</summary>
    public IEnumerable<StoredEvent> StateEvents(StateSet state)
    {
        for (var i = 0; i < state.Count; i++)
        {
            if (Timeline.GetAny(state.Entries[i].Event) is { } stored)
                yield return stored;
        }
    }

    /// <summary>The state of <paramref name="room"/> as the auth rules read it.</summary>
    public IStateLookup Lookup(RoomSnapshot room, RoomWrite? write = null) => new SnapshotLookup(this, room, write);

    /// <summary>The stored event as a <see cref="Pdu"/> of its room version (cached; read-only).</summary>
    public Pdu ToPdu(StoredEvent stored, RoomVersion version, RoomWrite? write = null)
    {
        if (write is not null && write.Overlay<ulong, Pdu>(_pdus).TryGetValue(stored.ShortEventId, out var pending))
            return pending;
        if (_pdus.TryGet(stored.ShortEventId, out var cached))
            return cached;
        var pdu = Pdu.Parse(stored.ToJsonObject(), version);
        Materialize(pdu.Json);
        _pdus.Set(stored.ShortEventId, pdu);
        return pdu;
    }

    /// <summary>The room version of a known room, without loading its state.</summary>
    public RoomVersion? VersionOf(ulong shortRoomId) =>
        _versions.Get(KeyCodec.U64(shortRoomId)) is { } stored && RoomVersion.TryGet(KeyCodec.ReadUtf8(stored), out var version) ? version : null;

    internal void PublishPdu(ulong shortEventId, Pdu pdu, RoomWrite write)
    {
        write.Overlay<ulong, Pdu>(_pdus)[shortEventId] = pdu;
        write.AfterCommit(() => _pdus.Set(shortEventId, pdu));
    }

    internal void ForgetPdu(ulong shortEventId, RoomWrite write)
    {
        write.Overlay<ulong, Pdu>(_pdus).Remove(shortEventId);
        write.AfterCommit(() => _pdus.Remove(shortEventId));
    }

    /// <summary>Records the room's current state after a timeline event where it differs from the state after the event.</summary>
    internal void WriteStateAtEvent(ulong shortRoomId, long position, ulong stateHash, RoomWrite write) =>
        write.Batch.Put(_stateAtEvent, TimelinePosition.PduKey(shortRoomId, position), KeyCodec.U64(stateHash));

    internal void WriteRoomVersion(ulong shortRoomId, RoomVersion version, RoomWrite write) =>
        write.Batch.Put(_versions, KeyCodec.U64(shortRoomId), KeyCodec.Utf8(version.Id));

    /// <summary>
    /// The room's head, written with every event: the current state's snapshot and the forward
    /// extremities. Value layout: u64 short state hash, then the u64 short event ids of the extremities.
    /// </summary>
    internal void WriteHead(ulong shortRoomId, ulong stateHash, IReadOnlyList<ulong> extremities, RoomWrite write)
    {
        var bytes = new byte[8 * (1 + extremities.Count)];
        KeyCodec.U64(stateHash).CopyTo(bytes, 0);
        for (var i = 0; i < extremities.Count; i++)
            KeyCodec.U64(extremities[i]).CopyTo(bytes, 8 * (i + 1));
        write.Batch.Put(_heads, KeyCodec.U64(shortRoomId), bytes);
    }

    /// <summary>
    /// Claims a new room's id for <paramref name="write"/>: false when a room has it already or
    /// another creation is under way with it.
    /// </summary>
    internal bool TryReserveNewRoom(string roomId, RoomWrite write)
    {
        if (Ids.FindRoom(roomId) is not null || !_creating.TryAdd(roomId, 0))
            return false;
        write.AfterCommit(() => _creating.TryRemove(roomId, out _));
        write.OnAbandon(() => _creating.TryRemove(roomId, out _));
        return true;
    }

    /// <summary>Publishes the room's new snapshot once <paramref name="write"/> commits.</summary>
    internal void Publish(RoomSnapshot room, RoomWrite write) =>
        write.AfterCommit(() =>
        {
            lock (_publishGate)
            {
                if (!_rooms.TryGet(room.RoomId, out var current) || current.LastPosition < room.LastPosition)
                    _rooms.Set(room.RoomId, room);
                _applied.TryRemove(KeyValuePair.Create(room.RoomId, room));
            }
        });

    /// <summary>
    /// Under the room's lock, before its batch is applied: the snapshot the next holder of the lock
    /// builds on until the batch is durable. Withdrawn by <see cref="Unstage"/> if the batch is not applied.
    /// </summary>
    internal void Stage(RoomSnapshot room) => _applied[room.RoomId] = room;

    internal void Unstage(RoomSnapshot room) => _applied.TryRemove(KeyValuePair.Create(room.RoomId, room));

    /// <summary>Compact UTF-8 JSON with non-ASCII text unescaped.</summary>
    internal static byte[] Serialize(JsonNode node)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            node.WriteTo(writer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// An event as stored: its fields but <c>unsigned</c>, then <paramref name="unsigned"/> when given. Written
    /// straight from the event rather than from an edited copy: a room join stores thousands of events at once.
    /// </summary>
    internal static byte[] Serialize(JsonObject pdu, JsonObject? unsigned)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in pdu)
            {
                if (name == "unsigned")
                    continue;
                writer.WritePropertyName(name);
                if (value is null)
                    writer.WriteNullValue();
                else
                    value.WriteTo(writer);
            }
            if (unsigned is not null)
            {
                writer.WritePropertyName("unsigned");
                unsigned.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private SemaphoreSlim LockOf(string roomId) => _locks.GetOrAdd(roomId, _ => new SemaphoreSlim(1, 1));

    /// <summary>
    /// The room's latest snapshot, for the holder of its lock: the staged one while a batch is in
    /// flight, else the cached one if it matches the stored head (one point read: commit actions of
    /// batches synced together may run out of order, and a late older one must not win), else one
    /// built from the store.
    /// </summary>
    private RoomSnapshot? LoadUnderLock(string roomId)
    {
        if (_applied.TryGetValue(roomId, out var applied))
            return applied;
        if (Ids.FindRoom(roomId) is not { } shortRoomId)
            return null;
        if (_heads.Get(KeyCodec.U64(shortRoomId)) is not { } head || VersionOf(shortRoomId) is not { } version)
            return null;
        var stateHash = KeyCodec.ReadU64(head);
        var extremities = new List<ulong>();
        for (var i = 8; i + 8 <= head.Length; i += 8)
            extremities.Add(KeyCodec.ReadU64(head.AsSpan(i)));
        if (_rooms.TryGet(roomId, out var cached) && cached.StateHash == stateHash && cached.Extremities.SequenceEqual(extremities))
            return cached;
        var latest = Timeline.Latest(shortRoomId);
        var room = new RoomSnapshot(roomId, shortRoomId, version, stateHash, Snapshots.Load(stateHash), extremities, latest?.Position ?? 0);
        lock (_publishGate)
            _rooms.Set(roomId, room);
        return room;
    }

    /// <summary>
    /// Walks every object and array once, so that the lazily built children of a parsed JsonNode exist
    /// before the node is shared between threads (building them on first read is not thread-safe).
    /// </summary>
    private static void Materialize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, child) in obj)
                    Materialize(child);
                break;
            case JsonArray array:
                foreach (var child in array)
                    Materialize(child);
                break;
        }
    }

    private sealed class SnapshotLookup(RoomEvents events, RoomSnapshot room, RoomWrite? write) : IStateLookup
    {
        public Pdu? Find(string type, string stateKey) =>
            events.StateEvent(room, type, stateKey, write) is { } stored ? events.ToPdu(stored, room.Version, write) : null;
    }
}
