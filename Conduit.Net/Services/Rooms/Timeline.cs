using Conduit.Net.Storage;

namespace Conduit.Net.Services.Rooms;

/// <summary>Why an event received over federation is kept out of the timeline clients read.</summary>
public enum HiddenOutcome : byte
{
    /// <summary>Allowed by the state before it but not by the room's current state: in the DAG, never served.</summary>
    SoftFailed = 1,

    /// <summary>Refused by the auth rules: never state, never an auth or prev event of ours, never served.</summary>
    Rejected = 2,

    /// <summary>
    /// Part of the state or auth chain a server vouched for when this one joined: state and auth, never
    /// in the timeline, never a forward extremity.
    /// </summary>
    Outlier = 3,
}

/// <summary>An event kept out of the timeline, and why.</summary>
public sealed record HiddenEvent(StoredEvent Event, HiddenOutcome Outcome);

/// <summary>
/// Every room's events in order: <c>pduid_pdu</c> keyed by short room id and position, so that a
/// room's timeline is one contiguous key range read forwards or backwards; an event is found by id
/// through its <see cref="EventIndex"/> record. Recently used events are cached.
/// </summary>
public sealed class Timeline
{
    private readonly KvStore _store;
    private readonly KvTree _pdus;
    private readonly EventIndex _index;
    private readonly KvTree _hidden;
    private readonly LruCache<ulong, StoredEvent> _cache = new(20_000);
    private readonly LruCache<ulong, HiddenEvent> _hiddenCache = new(5_000);

    public Timeline(KvStore store, EventIndex index)
    {
        _store = store;
        _pdus = store.Tree(Trees.Pdus);
        _hidden = store.Tree(Trees.HiddenPdus);
        _index = index;
    }

    /// <summary>Writes a new event at <paramref name="position"/> of its room (its <see cref="EventIndex"/> record is the caller's).</summary>
    public StoredEvent Append(ulong shortRoomId, long position, ulong shortEventId, string eventId, byte[] json, RoomWrite write)
    {
        var stored = StoredEvent.Create(shortRoomId, position, shortEventId, eventId, json);
        var key = TimelinePosition.PduKey(shortRoomId, position);
        write.Batch.Put(_pdus, key, StoredEvent.Encode(shortEventId, eventId, json));
        Publish(stored, write);
        return stored;
    }

    /// <summary>Replaces the stored JSON of an event in place (a redaction), keeping its position.</summary>
    public StoredEvent Replace(StoredEvent existing, byte[] json, RoomWrite write)
    {
        var stored = StoredEvent.Create(existing.ShortRoomId, existing.Position, existing.ShortEventId, existing.EventId, json);
        write.Batch.Put(_pdus, TimelinePosition.PduKey(existing.ShortRoomId, existing.Position), StoredEvent.Encode(existing.ShortEventId, existing.EventId, json));
        Publish(stored, write);
        return stored;
    }

    /// <summary>
    /// The event with this short id, or null when it is neither in a timeline nor an outlier (the state
    /// a join started from, which clients may read like any state).
    /// </summary>
    public StoredEvent? Get(ulong shortEventId, RoomWrite? write = null)
    {
        if (write is not null && write.Overlay<ulong, StoredEvent>(this).TryGetValue(shortEventId, out var pending))
            return pending;
        if (_cache.TryGet(shortEventId, out var cached))
            return cached;
        if (_index.Get(shortEventId, write) is not { } record)
            return null;
        if (_pdus.Get(record.PduKey) is not { } value)
            return GetHidden(shortEventId, write) is { Outcome: HiddenOutcome.Outlier } outlier ? outlier.Event : null;
        var stored = StoredEvent.Decode(record.ShortRoomId, record.Position, value);
        _cache.Set(shortEventId, stored);
        return stored;
    }

    /// <summary>
    /// Writes a received event that clients never see (its <see cref="EventIndex"/> record is the
    /// caller's): it keeps its place in the room's DAG and its state, outside the timeline's key range.
    /// </summary>
    public StoredEvent AppendHidden(ulong shortRoomId, long position, ulong shortEventId, string eventId, byte[] json, HiddenOutcome outcome, RoomWrite write)
    {
        var stored = StoredEvent.Create(shortRoomId, position, shortEventId, eventId, json);
        var encoded = StoredEvent.Encode(shortEventId, eventId, json);
        var value = new byte[1 + encoded.Length];
        value[0] = (byte)outcome;
        encoded.CopyTo(value, 1);
        write.Batch.Put(_hidden, KeyCodec.U64(shortEventId), value);
        var hidden = new HiddenEvent(stored, outcome);
        write.Overlay<ulong, HiddenEvent?>(_hidden)[shortEventId] = hidden;
        write.AfterCommit(() => _hiddenCache.Set(shortEventId, hidden));
        return stored;
    }

    /// <summary>Drops an event's hidden record: an outlier that backfill placed in the timeline.</summary>
    public void RemoveHidden(ulong shortEventId, RoomWrite write)
    {
        write.Batch.Remove(_hidden, KeyCodec.U64(shortEventId));
        write.Overlay<ulong, HiddenEvent?>(_hidden)[shortEventId] = null;
        write.AfterCommit(() => _hiddenCache.Remove(shortEventId));
    }

    /// <summary>The soft-failed or rejected event with this short id, or null when it is not one.</summary>
    public HiddenEvent? GetHidden(ulong shortEventId, RoomWrite? write = null)
    {
        if (write is not null && write.Overlay<ulong, HiddenEvent?>(_hidden).TryGetValue(shortEventId, out var pending))
            return pending;
        if (_hiddenCache.TryGet(shortEventId, out var cached))
            return cached;
        if (_index.Get(shortEventId, write) is not { } record || _hidden.Get(KeyCodec.U64(shortEventId)) is not { } value)
            return null;
        var hidden = new HiddenEvent(StoredEvent.Decode(record.ShortRoomId, record.Position, value.AsSpan(1)), (HiddenOutcome)value[0]);
        _hiddenCache.Set(shortEventId, hidden);
        return hidden;
    }

    /// <summary>
    /// The event with this short id whether clients see it or not: what the room's DAG, its state and
    /// state resolution read.
    /// </summary>
    public StoredEvent? GetAny(ulong shortEventId, RoomWrite? write = null) =>
        Get(shortEventId, write) ?? GetHidden(shortEventId, write)?.Event;

    /// <summary>
    /// The room's events with <paramref name="after"/> &lt; position &lt;= <paramref name="upTo"/>
    /// (null: unbounded), oldest first, or newest first when <paramref name="newestFirst"/>.
    /// Lazy: stop enumerating to stop reading.
    /// </summary>
    public IEnumerable<StoredEvent> Range(ulong shortRoomId, long? after, long? upTo, bool newestFirst)
    {
        var from = TimelinePosition.PduKey(shortRoomId, after is { } a ? a + 1 : long.MinValue);
        byte[]? to = upTo is { } u && u < long.MaxValue
            ? TimelinePosition.PduKey(shortRoomId, u + 1)
            : shortRoomId < ulong.MaxValue ? TimelinePosition.PduKey(shortRoomId + 1, long.MinValue) : null;
        foreach (var (key, value) in _pdus.ScanRange(from, to, newestFirst))
        {
            var position = TimelinePosition.Read(key.AsSpan(8));
            var shortEventId = KeyCodec.ReadU64(value);
            if (_cache.TryGet(shortEventId, out var cached) && cached.Position == position)
            {
                yield return cached;
                continue;
            }
            yield return StoredEvent.Decode(shortRoomId, position, value);
        }
    }

    /// <summary>The room's newest event, or null for a room without events.</summary>
    public StoredEvent? Latest(ulong shortRoomId) => Range(shortRoomId, null, null, newestFirst: true).FirstOrDefault();

    /// <summary>
    /// Completes at the first commit after this call that appends or rewrites (redacts) an event of
    /// the room: one-shot, with the store's register-read-await contract (<see cref="KvStore.WatchPrefix"/>).
    /// </summary>
    public Task Watch(ulong shortRoomId, CancellationToken cancellationToken) =>
        _store.WatchPrefix(_pdus, KeyCodec.U64(shortRoomId), cancellationToken);

    private void Publish(StoredEvent stored, RoomWrite write)
    {
        write.Overlay<ulong, StoredEvent>(this)[stored.ShortEventId] = stored;
        write.AfterCommit(() => _cache.Set(stored.ShortEventId, stored));
    }
}
