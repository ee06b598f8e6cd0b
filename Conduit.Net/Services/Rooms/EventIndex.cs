using System.Buffers.Binary;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Rooms;

/// <summary>What the server keeps per event besides the PDU.</summary>
/// <param name="StateBefore">Short state hash of the state before the event (what it was authorized against).</param>
/// <param name="DeviceId">The device that sent it through a client transaction, if any.</param>
/// <param name="TxnId">That transaction's id.</param>
public sealed record EventRecord(ulong ShortRoomId, long Position, ulong StateBefore, string? DeviceId = null, string? TxnId = null)
{
    /// <summary>The event's key in <see cref="Trees.Pdus"/>.</summary>
    public byte[] PduKey => TimelinePosition.PduKey(ShortRoomId, Position);
}

/// <summary>
/// <c>shorteventid_event</c>: one record per event holding where it sits, its state snapshot and its
/// client transaction, so that appending an event writes one index entry rather than three.
/// </summary>
public sealed class EventIndex
{
    private const int FixedSize = 24;

    private readonly KvTree _records;
    private readonly LruCache<ulong, EventRecord> _cache = new(50_000);

    public EventIndex(KvStore store) => _records = store.Tree(Trees.EventIndex);

    public void Write(ulong shortEventId, EventRecord record, RoomWrite write)
    {
        write.Batch.Put(_records, KeyCodec.U64(shortEventId), Encode(record));
        write.Overlay<ulong, EventRecord>(this)[shortEventId] = record;
        write.AfterCommit(() => _cache.Set(shortEventId, record));
    }

    /// <summary>The event's record, or null for an event this server has not stored.</summary>
    public EventRecord? Get(ulong shortEventId, RoomWrite? write = null)
    {
        if (write is not null && write.Overlay<ulong, EventRecord>(this).TryGetValue(shortEventId, out var pending))
            return pending;
        if (_cache.TryGet(shortEventId, out var cached))
            return cached;
        if (_records.Get(KeyCodec.U64(shortEventId)) is not { } value)
            return null;
        var record = Decode(value);
        _cache.Set(shortEventId, record);
        return record;
    }

    /// <summary>
    /// Value layout: u64 short room id, position (8 bytes, sign-flipped), u64 short state hash before
    /// the event, then for events sent through a client transaction the UTF-8 device id, 0xFF, txn id.
    /// </summary>
    private static byte[] Encode(EventRecord record)
    {
        var txn = record.DeviceId is null ? [] : KeyCodec.Join(record.DeviceId, record.TxnId ?? "");
        var bytes = new byte[FixedSize + txn.Length];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, record.ShortRoomId);
        TimelinePosition.Write(bytes.AsSpan(8), record.Position);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(16), record.StateBefore);
        txn.CopyTo(bytes, FixedSize);
        return bytes;
    }

    private static EventRecord Decode(byte[] value)
    {
        string? deviceId = null, txnId = null;
        if (value.Length > FixedSize)
        {
            var txn = KeyCodec.SplitUtf8(value.AsSpan(FixedSize));
            deviceId = txn[0];
            txnId = txn[1];
        }
        return new EventRecord(
            BinaryPrimitives.ReadUInt64BigEndian(value),
            TimelinePosition.Read(value.AsSpan(8)),
            BinaryPrimitives.ReadUInt64BigEndian(value.AsSpan(16)),
            deviceId,
            txnId);
    }
}
