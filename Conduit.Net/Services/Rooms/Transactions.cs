using Conduit.Net.Storage;

namespace Conduit.Net.Services.Rooms;

/// <summary>A client transaction: who sent the request from which device, to which endpoint, with which txn id.</summary>
/// <param name="Endpoint">Which kind of request (<c>send</c>, <c>redact</c>): the same txn id may be used once with each.</param>
public sealed record ClientTransaction(string UserId, string DeviceId, string RoomId, string Endpoint, string TxnId);

/// <summary>
/// Client transaction ids ("Transaction identifiers"): a retried request with the same device and
/// txn id gets the first request's event instead of a new one, across restarts; and the sending
/// device sees its txn id in <c>unsigned.transaction_id</c>.
/// </summary>
public sealed class Transactions
{
    private readonly KvTree _txnEvents;
    private readonly KvTree _eventTxns;

    public Transactions(KvStore store)
    {
        _txnEvents = store.Tree(Trees.TransactionIds);
        _eventTxns = store.Tree(Trees.EventTransactions);
    }

    /// <summary>The event a transaction already produced, or null.</summary>
    public string? Find(ClientTransaction txn) =>
        _txnEvents.Get(Key(txn)) is { } value ? KeyCodec.ReadUtf8(value) : null;

    public void Record(ClientTransaction txn, ulong shortEventId, string eventId, RoomWrite write)
    {
        write.Batch.Put(_txnEvents, Key(txn), KeyCodec.Utf8(eventId));
        write.Batch.Put(_eventTxns, KeyCodec.U64(shortEventId), KeyCodec.Join(txn.DeviceId, txn.TxnId));
    }

    /// <summary>The device and txn id the event was sent with, or null for events not sent through a transaction.</summary>
    public (string DeviceId, string TxnId)? Of(ulong shortEventId)
    {
        if (_eventTxns.Get(KeyCodec.U64(shortEventId)) is not { } value)
            return null;
        var separator = Array.IndexOf(value, KeyCodec.Separator);
        return (KeyCodec.ReadUtf8(value.AsSpan(0, separator)), KeyCodec.ReadUtf8(value.AsSpan(separator + 1)));
    }

    private static byte[] Key(ClientTransaction txn) => KeyCodec.Join(txn.UserId, txn.DeviceId, txn.RoomId, txn.Endpoint, txn.TxnId);
}
