using System.Security.Cryptography;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Rooms;

/// <summary>A client transaction: who sent the request from which device, to which endpoint, with which txn id.</summary>
/// <param name="Endpoint">Which kind of request (<c>send</c>, <c>redact</c>): the same txn id may be used once with each.</param>
public sealed record ClientTransaction(string UserId, string DeviceId, string RoomId, string Endpoint, string TxnId);

/// <summary>
/// Client transaction ids ("Transaction identifiers"): a retried request with the same device and
/// txn id gets the first request's event instead of a new one, across restarts. (The sending device
/// and txn id are also kept in the event's <see cref="EventRecord"/>, for <c>unsigned.transaction_id</c>.)
/// </summary>
public sealed class Transactions
{
    private readonly KvTree _txnEvents;

    public Transactions(KvStore store) => _txnEvents = store.Tree(Trees.TransactionIds);

    /// <summary>The event a transaction already produced, or null.</summary>
    public string? Find(ClientTransaction txn) =>
        _txnEvents.Get(Key(txn)) is { } value ? KeyCodec.ReadUtf8(value) : null;

    public void Record(ClientTransaction txn, string eventId, RoomWrite write) =>
        write.Batch.Put(_txnEvents, Key(txn), KeyCodec.Utf8(eventId));

    /// <summary>SHA-256 of the parts: txn ids (and device ids) are the client's choice, of any length.</summary>
    private static byte[] Key(ClientTransaction txn) =>
        SHA256.HashData(KeyCodec.Join(txn.UserId, txn.DeviceId, txn.RoomId, txn.Endpoint, txn.TxnId));
}
